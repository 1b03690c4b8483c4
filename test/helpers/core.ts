/**
 * Core configuration from the config schema's defaults, and in-memory stand-ins for the session seam
 * (src/core/session.ts) for unit tests of `Subscriptions` and the channel commands.
 */
import { defaultConfig } from "../../src/config/index.js";
import type {
  ClientInfo,
  HistoryFilter,
  HistoryResult,
  PresenceStats,
  Publication,
  PublishResult,
  StreamPosition,
} from "../../src/engine/types.js";
import { toProtoPublication } from "../../src/engine/wire.js";
import type { Disconnect } from "../../src/protocol/codes.js";
import type { DeadlineKind } from "../../src/core/deadlines.js";
import { noMetrics } from "../../src/core/metrics.js";
import { ChannelRules, type ResolvedChannel } from "../../src/core/namespaces.js";
import type { NodePublishOptions } from "../../src/core/node.js";
import type { ChannelConfig, ClientConfig, NamespaceConfig, RpcConfig } from "../../src/core/options.js";
import { PreparedPublication, type PreparedPush } from "../../src/core/prepared.js";
import { noProxies } from "../../src/core/proxy.js";
import type { CommandSession, ReplyInit, SubscriptionServices } from "../../src/core/session.js";

/** The defaults of the `client` section, from the config schema, with `overrides` on top. */
export function clientConfig(overrides: Partial<ClientConfig> = {}): ClientConfig {
  return { ...defaultConfig().client, ...overrides };
}

/** The defaults of the `rpc` section, from the config schema. */
export function rpcConfig(): RpcConfig {
  return defaultConfig().rpc;
}

/** The defaults of the `channel` section, from the config schema, with these namespaces. */
export function channelConfig(namespaces: NamespaceConfig[] = []): ChannelConfig {
  return { ...defaultConfig().channel, namespaces };
}

/** The epoch of every stream the fake services keep. */
export const EPOCH = "e1";

/** A session that records what it is told to write and how it was closed. */
export class RecordingSession implements CommandSession {
  readonly id = "client-1";
  readonly user = "alice";
  readonly meta = undefined;
  readonly unidirectional = false;
  readonly transport = { name: "websocket", protocol: "json" } as const;
  readonly requester = { user: "alice", insecure: false };
  readonly proxyCaller = {
    client: "client-1",
    user: "alice",
    transport: "websocket",
    protocol: "json",
    headers: {},
    emulatedHeaders: {},
    meta: undefined,
  } as const;
  readonly transportMetrics = { sent: (): void => {} };
  /** Replies and pushes, as written. */
  readonly replies: ReplyInit[] = [];
  /** Offsets of the shared publication pushes queued, in order. */
  readonly delivered: number[] = [];
  readonly deadlineCalls: { kind: DeadlineKind; delayMs: number }[] = [];
  readonly deadlines = {
    atMost: (kind: DeadlineKind, delayMs: number): void => {
      this.deadlineCalls.push({ kind, delayMs });
    },
  };
  closedWith: Disconnect | undefined;
  /** What the channel commands see of the session's subscriptions; tests set the channels it is subscribed to. */
  readonly subscribed = new Set<string>();
  readonly subscriptions = {
    get: (channel: string): { info?: Uint8Array } | undefined =>
      this.subscribed.has(channel) ? {} : undefined,
    has: (channel: string): boolean => this.subscribed.has(channel),
  };

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  clientInfo(chanInfo?: Uint8Array): ClientInfo {
    return { user: this.user, client: this.id, chanInfo };
  }

  write(reply: ReplyInit): void {
    this.replies.push(reply);
  }

  writeShared(prepared: PreparedPush): number {
    this.delivered.push(Number(prepared.push.pub?.offset));
    return 1;
  }

  writeUnit(unit: Uint8Array | Error): number {
    return unit instanceof Error ? 0 : unit.byteLength;
  }

  close(disconnect: Disconnect): void {
    this.closedWith ??= disconnect;
  }

  logInternalError(err: unknown): void {
    throw err;
  }
}

/** One channel's stream, as a broker with history keeps it. */
interface Stream {
  epoch: string;
  publications: Publication[];
}

/** The node's channel services in memory, recording what the subscriptions asked of them. */
export class MemoryChannelServices implements SubscriptionServices<RecordingSession> {
  readonly rules: ChannelRules;
  readonly options = { client: clientConfig({ channel_position_max_time_lag: 0 }), rpc: rpcConfig() };
  readonly metrics = noMetrics;
  readonly proxies = noProxies;
  readonly subscribeTokens = {
    verifySubscribeToken: (): Promise<never> => Promise.reject(new Error("no tokens in these tests")),
  };
  /** The clock: tests move `wheel.ms`. */
  readonly wheel = {
    ms: Date.UTC(2026, 0, 1),
    resolutionMs: 100,
    now(): number {
      return this.ms;
    },
  };
  readonly streams = new Map<string, Stream>();
  /** What was asked of the broker, presence and the hub, in order: "add chat:a", "leave chat:a", … */
  readonly calls: string[] = [];
  /** Presence by channel, as tests set it (the presence manager above only records). */
  readonly present = new Map<string, Record<string, ClientInfo>>();
  /** Runs while a history read is under way, after the stream was read: live publications arrive then. */
  duringHistory: (() => void) | undefined;
  readonly broker = {
    publishJoin: (channel: string): Promise<void> => this.record(`join ${channel}`),
    publishLeave: (channel: string): Promise<void> => this.record(`leave ${channel}`),
  };
  readonly presenceManager = {
    addPresence: (channel: string): Promise<void> => this.record(`add_presence ${channel}`),
    removePresence: (channel: string): Promise<void> => this.record(`remove_presence ${channel}`),
  };

  constructor(namespaces: NamespaceConfig[]) {
    this.rules = new ChannelRules(channelConfig(namespaces));
  }

  /** Append publications 1..count to `channel`'s stream, stamped with the current time. */
  fill(channel: string, count: number): void {
    const publications = Array.from({ length: count }, (_, i) => this.publication(i + 1));
    this.streams.set(channel, { epoch: EPOCH, publications });
  }

  publication(offset: number): Publication {
    return { offset, data: new TextEncoder().encode(`{"n":${offset}}`), time: this.wheel.now() };
  }

  /** A live publication of `channel` as the node fans it out. */
  live(channel: string, offset: number, epoch = EPOCH): PreparedPublication {
    const pub = this.publication(offset);
    return new PreparedPublication(channel, toProtoPublication(pub), epoch, pub.time);
  }

  addSubscription(channel: string): Promise<void> {
    return this.record(`add ${channel}`);
  }

  removeSubscription(channel: string): Promise<void> {
    return this.record(`remove ${channel}`);
  }

  async history(channel: string, filter: HistoryFilter): Promise<HistoryResult> {
    await Promise.resolve();
    const stream = this.streams.get(channel) ?? { epoch: EPOCH, publications: [] };
    const top: StreamPosition = { offset: stream.publications.length, epoch: stream.epoch };
    const after = filter.since?.offset ?? 0;
    let publications = stream.publications.filter((pub) => pub.offset > after);
    if (filter.reverse) publications = publications.reverse();
    if (filter.limit >= 0) publications = publications.slice(0, filter.limit);
    this.duringHistory?.();
    return { publications, position: top };
  }

  async streamTop(channel: string): Promise<StreamPosition> {
    return (await this.history(channel, { limit: 0 })).position;
  }

  /** Append to the channel's stream (no fan-out: the tests deliver live publications themselves). */
  async publish(
    channel: ResolvedChannel,
    data: Uint8Array,
    options: NodePublishOptions,
  ): Promise<PublishResult> {
    const stream = this.streams.get(channel.channel) ?? { epoch: EPOCH, publications: [] };
    this.streams.set(channel.channel, stream);
    const offset = stream.publications.length + 1;
    stream.publications.push({ offset, data, info: options.info, time: this.wheel.now() });
    await this.record(`publish ${channel.channel}`);
    return { position: { offset, epoch: stream.epoch }, suppressed: false };
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    return this.present.get(channel) ?? {};
  }

  async presenceStats(channel: string): Promise<PresenceStats> {
    const present = Object.values(await this.presence(channel));
    return { numClients: present.length, numUsers: new Set(present.map((info) => info.user)).size };
  }

  private record(call: string): Promise<void> {
    this.calls.push(call);
    return Promise.resolve();
  }
}
