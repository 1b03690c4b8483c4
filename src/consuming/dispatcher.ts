/**
 * What a consumed message becomes: a server API call through the same executor as the HTTP and GRPC APIs
 * (centrifugo internal/api/consuming.go). Only state-changing methods run; internal errors (code 100) are
 * thrown as {@link RetryableError} so that the consumer retries the message, every other outcome is final:
 * logged when it is an error, and the message is acknowledged.
 */
import { create, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ApiErrorInternal } from "../api/errors.js";
import type { ApiExecutor } from "../api/executor.js";
import {
  BroadcastRequestSchema,
  type Error as ApiErrorMessage,
  PublishRequestSchema,
} from "../api/gen/api_pb.js";
import { apiMethod } from "../api/methods.js";
import { ProtocolDecodeError } from "../protocol/errors.js";
import { readJsonDocument } from "../protocol/json-reader.js";
import { type MemberRange, QUOTE, scanMembers, skipWhitespace } from "../protocol/json-scan.js";

/** A message failed with an internal error: the consumer must not acknowledge it and tries it again. */
export class RetryableError extends Error {}

/** centrifugo internal/gen/api/gen_handlers_consumer.go: the methods a consumer may call. */
const CONSUMABLE_METHODS: ReadonlySet<string> = new Set([
  "publish",
  "broadcast",
  "subscribe",
  "unsubscribe",
  "disconnect",
  "history_remove",
  "refresh",
]);

/** A publication carried by a message in publication data mode (centrifugo internal/api `ConsumedPublication`). */
export interface ConsumedPublication {
  readonly data: Uint8Array;
  readonly idempotencyKey: string;
  readonly delta: boolean;
  readonly tags: Record<string, string>;
  readonly version: number;
  readonly versionEpoch: string;
}

/** What every method's response is made of. */
interface Outcome {
  readonly error?: ApiErrorMessage;
  readonly result?: unknown;
}

const encoder = new TextEncoder();
const NULL_BYTES = encoder.encode("null");
const decoder = new TextDecoder();

/** Runs consumed messages as API calls; one per node, shared by every consumer. */
export class Dispatcher {
  constructor(
    private readonly executor: ApiExecutor,
    private readonly logger: Logger,
  ) {}

  /**
   * A message in command mode. With a method (a column, header or field), `payload` is that method's request;
   * without one, `payload` is `{"method": …, "payload": …}`, whose payload may also be a JSON string holding
   * the request (as Debezium writes JSONB columns). Throws {@link RetryableError} only.
   */
  async dispatchCommand(method: string, payload: Uint8Array): Promise<void> {
    if (method !== "") return this.dispatchMethod(method, payload);
    const envelope = parseEnvelope(payload);
    if (envelope === undefined) {
      this.logger.error("skip malformed consumed message");
      return;
    }
    return this.dispatchMethod(envelope.method, envelope.payload);
  }

  /** A message in publication data mode: publish into one channel, or broadcast into several. */
  async dispatchPublication(channels: readonly string[], pub: ConsumedPublication): Promise<void> {
    if (channels.length === 0) return;
    const fields = {
      data: pub.data,
      idempotencyKey: pub.idempotencyKey,
      delta: pub.delta,
      tags: pub.tags,
      version: pub.version,
      versionEpoch: pub.versionEpoch,
    };
    if (channels.length === 1) {
      const response = await this.executor.publish(
        create(PublishRequestSchema, { ...fields, channel: channels[0] }),
      );
      return this.settle("publish", response);
    }
    const response = await this.executor.broadcast(
      create(BroadcastRequestSchema, { ...fields, channels: [...channels] }),
    );
    return this.settle("broadcast", response);
  }

  private async dispatchMethod(name: string, payload: Uint8Array): Promise<void> {
    const method = CONSUMABLE_METHODS.has(name) ? apiMethod(name) : undefined;
    if (method === undefined) {
      this.logger.info({ method: name }, "skip unsupported API command method");
      return;
    }
    let request: Message;
    try {
      request = decodeRequest(method.request, payload);
    } catch (err) {
      if (!(err instanceof ProtocolDecodeError)) throw err;
      this.logger.error(
        { method: name, err: "invalid data" },
        "non retryable error during consuming, skip message",
      );
      return;
    }
    // The decoder built a message of the method's own request type.
    return this.settle(name, (await method.run(this.executor, request as never)) as Outcome);
  }

  /** Throws for an internal error (of the call, or of any channel of a broadcast); logs any other error. */
  private settle(method: string, response: Outcome): void {
    const { error } = response;
    if (error?.code === ApiErrorInternal.code) throw new RetryableError(`${method}: ${error.message}`);
    if (error !== undefined) {
      this.logger.error(
        { method, err: `${error.message} (${error.code})` },
        "non retryable error during consuming, skip message",
      );
      return;
    }
    // Any internal error in any channel of a broadcast retries the whole message; idempotency keys keep the
    // channels that did succeed from publishing twice.
    const responses = (response.result as { responses?: Outcome[] } | undefined)?.responses ?? [];
    if (responses.some((r) => r.error?.code === ApiErrorInternal.code)) {
      throw new RetryableError(`${method}: internal error in a channel`);
    }
  }
}

/** A request as upstream's JSON decoder reads one: a top-level `null` is an empty request. */
function decodeRequest(desc: DescMessage, payload: Uint8Array): Message {
  const text = decoder.decode(payload).trim();
  return text === "null" ? create(desc) : readJsonDocument(payload, desc);
}

/**
 * `{"method": "...", "payload": ...}` (centrifugo internal/api `MethodWithRequestPayload`), or undefined when
 * malformed. The payload's bytes are kept as written, so publication data reaches clients unchanged.
 */
function parseEnvelope(b: Uint8Array): { method: string; payload: Uint8Array } | undefined {
  const members: MemberRange[] = [];
  const start = skipWhitespace(b, 0, b.length);
  const end = scanMembers(b, start, b.length, members);
  if (end < 0 || skipWhitespace(b, end, b.length) !== b.length) return undefined;
  let method: unknown = "";
  let payload: Uint8Array = NULL_BYTES;
  for (const m of members) {
    const key: unknown = JSON.parse(decoder.decode(b.subarray(m.keyStart, m.keyEnd)));
    const value = b.subarray(m.valueStart, m.valueEnd);
    if (key === "method") method = JSON.parse(decoder.decode(value));
    // A JSON string payload holds the request's JSON text itself (upstream `JSONRawOrString`).
    else if (key === "payload")
      payload = value[0] === QUOTE ? encoder.encode(JSON.parse(decoder.decode(value))) : value;
  }
  return typeof method === "string" ? { method, payload } : undefined;
}
