/**
 * The NATS JetStream consumer (centrifugo internal/consuming/nats_jetstream.go), over JetStream's wire API on
 * a core NATS connection: a durable pull consumer (created or updated at start with explicit acks, a 30 s ack
 * wait, `max_ack_pending` and the `subjects` filter; or, with `use_existing_consumer`, looked up), from which
 * messages are pulled in batches and dispatched in order. Each is acknowledged once dispatched; one that fails
 * with an internal error is negatively acknowledged with a delay growing with its delivery count.
 */
import {
  connect,
  createInbox,
  type Msg,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription,
} from "@nats-io/transport-node";
import { clientTlsOptions, type Config } from "../config/index.js";
import { nextBackoffMs, pause } from "./backoff.js";
import type { Dispatcher } from "./dispatcher.js";
import { consumedPublication, InvalidPropertyError, type Properties } from "./publication.js";
import type { ConsumerCommon, RunningConsumer } from "./types.js";

export type NatsJetStreamConsumerConfig = Config["consumers"][number]["nats_jetstream"];

/** Upstream's AckWait, in nanoseconds as JetStream's API takes durations. */
const ACK_WAIT_NS = 30e9;
/** How long one pull request waits for messages before the server ends it (408). */
const PULL_EXPIRES_MS = 5000;
/** Longest time a JetStream API request may take (upstream's create timeout). */
const API_TIMEOUT_MS = 10_000;
/** How much longer than its expiry a pull may stay silent before it is taken as lost. */
const PULL_GRACE_MS = 2000;
/** Pause after a pull ended with an error status (409) or the connection failed. */
const PULL_ERROR_DELAY_MS = 1000;
const MS_NS = 1e6;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface ApiReply {
  error?: { code: number; description: string };
}

export class NatsJetStreamConsumer implements RunningConsumer {
  private readonly stopping = new AbortController();
  private readonly inbox: Subscription;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly config: NatsJetStreamConsumerConfig,
    private readonly nc: NatsConnection,
    private readonly dispatcher: Dispatcher,
    private readonly common: ConsumerCommon,
  ) {
    this.inbox = nc.subscribe(createInbox());
    this.loop = this.pullLoop();
  }

  /** Connects and creates (or finds) the durable consumer; the start fails when either fails. */
  static async start(
    config: NatsJetStreamConsumerConfig,
    dispatcher: Dispatcher,
    common: ConsumerCommon,
  ): Promise<NatsJetStreamConsumer> {
    const tls = config.tls.enabled
      ? clientTlsOptions(config.tls, `consumers.${common.name}.nats_jetstream.tls`)
      : undefined;
    const nc = await connect({
      servers: config.url,
      user: config.username || undefined,
      pass: config.password || undefined,
      token: config.token || undefined,
      timeout: API_TIMEOUT_MS,
      maxReconnectAttempts: -1,
      // The node transport hands this to tls.connect as it is: every Node TLS option works.
      tls: tls as NodeConnectionOptions["tls"],
    });
    try {
      await ensureConsumer(nc, config);
    } catch (err) {
      await nc.close();
      throw new Error(`failed to create JetStream consumer: ${(err as Error).message}`, { cause: err });
    }
    return new NatsJetStreamConsumer(config, nc, dispatcher, common);
  }

  /** The message being dispatched finishes and is acknowledged; pulled ones not started are redelivered. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.inbox.unsubscribe();
    await this.loop;
    await this.nc.drain().catch(() => {});
  }

  /**
   * Pull requests one after another; each one's messages are dispatched in order as they arrive. A pull that
   * neither delivers nor ends in time (the server forgot it across a reconnect) is replaced by a new one.
   */
  private async pullLoop(): Promise<void> {
    const { signal } = this.stopping;
    const messages = this.inbox[Symbol.asyncIterator]();
    const batch = Math.max(1, Math.min(this.config.max_ack_pending, 100));
    const next = `$JS.API.CONSUMER.MSG.NEXT.${this.config.stream_name}.${this.config.durable_consumer_name}`;
    let arriving = messages.next();
    while (!signal.aborted) {
      try {
        this.nc.publish(next, JSON.stringify({ batch, expires: PULL_EXPIRES_MS * MS_NS }), {
          reply: this.inbox.getSubject(),
        });
      } catch (err) {
        this.common.logger.error({ err }, "error pulling from JetStream");
        await pause(PULL_ERROR_DELAY_MS, signal);
        continue;
      }
      for (let received = 0; received < batch && !signal.aborted;) {
        const result = await within(arriving, PULL_EXPIRES_MS + PULL_GRACE_MS);
        if (result === undefined) break;
        if (result.done === true) return;
        arriving = messages.next();
        const msg = result.value;
        const status = msg.headers?.code ?? 0;
        // 404 (no messages) and 408 (request expired) end a pull; others (409) are worth a log line.
        if (status === 404 || status === 408) break;
        if (status !== 0) {
          this.common.logger.warn({ status, description: msg.headers?.description }, "JetStream pull ended");
          await pause(PULL_ERROR_DELAY_MS, signal);
          break;
        }
        received++;
        await this.process(msg);
      }
    }
  }

  /**
   * Dispatches one message and acknowledges it. A message whose headers do not parse is acknowledged too (it
   * would never parse); any other failure asks for redelivery after a delay growing with its delivery count.
   */
  private async process(msg: Msg): Promise<void> {
    try {
      await this.dispatch(msg);
    } catch (err) {
      this.common.metrics.error();
      this.common.logger.error({ err }, "processing message failed");
      if (!(err instanceof InvalidPropertyError)) {
        const delay = nextBackoffMs(0, Math.min(deliveries(msg.reply ?? ""), 10));
        msg.respond(`-NAK ${JSON.stringify({ delay: delay * MS_NS })}`);
        return;
      }
    }
    msg.respond("+ACK");
    this.common.metrics.processed(1);
  }

  private async dispatch(msg: Msg): Promise<void> {
    const headers = new HeaderValues(msg);
    const mode = this.config.publication_data_mode;
    if (!mode.enabled) {
      return this.dispatcher.dispatchCommand(headers.get(this.config.method_header) ?? "", msg.data);
    }
    const { channels, publication } = consumedPublication(msg.data, headers, {
      channels: mode.channels_header,
      idempotencyKey: mode.idempotency_key_header,
      delta: mode.delta_header,
      version: mode.version_header,
      versionEpoch: mode.version_epoch_header,
      tagsPrefix: mode.tags_header_prefix,
    });
    if (channels.length === 0) {
      this.common.logger.info("no channels found, skipping message");
      return;
    }
    return this.dispatcher.dispatchPublication(channels, publication);
  }
}

/** `promise`'s value, or undefined when it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A message's headers: the first value of each. */
class HeaderValues implements Properties {
  constructor(private readonly msg: Msg) {}

  get(name: string): string | undefined {
    const headers = this.msg.headers;
    return headers?.has(name) ? headers.get(name) : undefined;
  }

  *entries(): Iterable<[string, string]> {
    for (const [name, values] of this.msg.headers ?? []) yield [name, values[0] ?? ""];
  }
}

/**
 * The delivery count in an ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.…` (9 tokens), or with a
 * domain and account hash `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.…` (12 or more).
 */
function deliveries(ackSubject: string): number {
  const tokens = ackSubject.split(".");
  const count = Number(tokens.length === 9 ? tokens[4] : tokens[6]);
  return Number.isInteger(count) && count > 0 ? count : 1;
}

/** Creates or updates the durable consumer, or with `use_existing_consumer` checks that it exists. */
async function ensureConsumer(nc: NatsConnection, config: NatsJetStreamConsumerConfig): Promise<void> {
  const { stream_name: stream, durable_consumer_name: durable } = config;
  if (config.use_existing_consumer) {
    await jsApi(nc, `$JS.API.CONSUMER.INFO.${stream}.${durable}`, "");
    return;
  }
  const subjects = config.subjects;
  const filter =
    subjects.length === 1
      ? { filter_subject: subjects[0] }
      : subjects.length > 1
        ? { filter_subjects: subjects }
        : {};
  await jsApi(
    nc,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}`,
    JSON.stringify({
      stream_name: stream,
      config: {
        name: durable,
        durable_name: durable,
        deliver_policy: config.deliver_policy === "all" ? "all" : "new",
        ack_policy: "explicit",
        ack_wait: ACK_WAIT_NS,
        max_ack_pending: config.max_ack_pending,
        ...filter,
      },
    }),
  );
}

/** One JetStream API request; throws with the server's description of an error reply. */
async function jsApi(nc: NatsConnection, subject: string, body: string): Promise<void> {
  const reply = await nc.request(subject, encoder.encode(body), { timeout: API_TIMEOUT_MS });
  const parsed = JSON.parse(decoder.decode(reply.data)) as ApiReply;
  if (parsed.error !== undefined) throw new Error(`${parsed.error.description} (${parsed.error.code})`);
}
