/**
 * The primary's side of the shared memory engine (see client.ts): one MemoryBroker and one
 * MemoryPresenceManager serve every worker's calls. The host remembers which worker subscribed which channel,
 * to push it only those publications, and which presence entries and user connections each worker added, to
 * drop them the moment that worker dies instead of a presence TTL later. It counts each user's connections over
 * all workers (`client.user_connection_limit`), and surveys the workers for `info` and `channels`.
 *
 * A publication's push is encoded here once per protocol that some worker receiving it asked for (a worker asks
 * the first time it has to encode one itself), so that N workers write the same bytes instead of encoding N
 * times: the house rule of encoding once per channel per protocol, across processes.
 */
import { randomUUID } from "node:crypto";
import type { ProtocolType } from "../../protocol/codec.js";
import { ClientError } from "../../protocol/codes.js";
import { MemoryBroker } from "../memory/broker.js";
import { MemoryPresenceManager } from "../memory/presence.js";
import type { GroupNodeInfo, Publication, StreamPosition, SurveyList } from "../types.js";
import type {
  IpcCall,
  IpcEvent,
  IpcFromWorker,
  IpcOperation,
  IpcOperations,
  IpcPort,
  IpcReply,
  PackedFigures,
} from "./messages.js";
import { latin1, packPublication } from "./publication.js";

/**
 * A survey waits this long for a worker's figures; one that has not answered by then (stuck, or dying) is left
 * out rather than holding up `info`.
 */
const SURVEY_TIMEOUT_MS = 5000;

/** One attached worker: its port, channels, presence entries, user connections and surveys awaiting it. */
class Member {
  readonly channels = new Set<string>();
  /** Presence entries this worker added, by {@link presenceKey}. */
  readonly presence = new Map<string, [channel: string, clientId: string]>();
  /** Connections this worker counted, by user. */
  readonly users = new Map<string, number>();
  /** Surveys waiting for this worker's figures, by survey id; undefined: it gave none. */
  readonly surveys = new Map<number, (figures: PackedFigures | undefined) => void>();
  /** The protocols this worker wants publications' pushes encoded for. */
  readonly protocols = new Set<ProtocolType>();

  constructor(readonly port: IpcPort) {}
}

export interface IpcEngineHostOptions {
  /** `channel.history_meta_ttl`, as the single node's memory broker takes it. */
  historyMetaTtlMs: number;
  /** Presence entries expire this long after their last add; the memory engine's 60 s by default. */
  presenceTtlMs?: number;
  /**
   * A publication's push to a bidirectional client of `protocol`, as the core encodes it (an Error when it
   * cannot be: the worker then meets that error itself). Without it workers encode every push themselves.
   */
  encodePush?: EncodePush;
}

export type EncodePush = (
  protocol: ProtocolType,
  channel: string,
  pub: Publication,
  position: StreamPosition,
) => Uint8Array | Error;

export class IpcEngineHost {
  private readonly broker: MemoryBroker;
  private readonly presence: MemoryPresenceManager;
  private readonly members = new Set<Member>();
  private readonly subscribers = new Map<string, Set<Member>>();
  /** Every user's connections counted over all workers. */
  private readonly userConnections = new Map<string, number>();
  private readonly uid = randomUUID();
  private readonly startedAt = Date.now();
  private nextSurveyId = 1;
  private readonly encodePush: EncodePush | undefined;

  private constructor(options: IpcEngineHostOptions) {
    this.encodePush = options.encodePush;
    this.broker = new MemoryBroker({ historyMetaTtlMs: options.historyMetaTtlMs });
    this.presence = new MemoryPresenceManager({ ttlMs: options.presenceTtlMs });
  }

  static async start(options: IpcEngineHostOptions): Promise<IpcEngineHost> {
    const host = new IpcEngineHost(options);
    await host.broker.registerEventHandler({
      onPublication: (channel, pub, position, delta, prev) =>
        host.pushPublication(channel, pub, position, delta, prev),
      onJoin: (channel, info) => host.push(channel, { turbine: "join", channel, info }),
      onLeave: (channel, info) => host.push(channel, { turbine: "leave", channel, info }),
    });
    return host;
  }

  /**
   * A worker joins: its messages go to `handle`; `detach` when it exits forgets its channels, presence and user
   * connections.
   */
  attach(port: IpcPort): { handle(message: IpcFromWorker): void; detach(): Promise<void> } {
    const member = new Member(port);
    this.members.add(member);
    return {
      handle: (message) => {
        if (message.turbine === "figures") member.surveys.get(message.id)?.(message.figures);
        else if (message.id === 0) void this.run(member, message).catch(() => undefined);
        else void this.answer(member, message);
      },
      detach: () => this.detach(member),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.broker.close(), this.presence.close()]);
  }

  private async answer(member: Member, call: IpcCall): Promise<void> {
    let reply: IpcReply;
    try {
      reply = { turbine: "reply", id: call.id, value: await this.run(member, call) };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const code = error instanceof ClientError ? error.code : undefined;
      reply = { turbine: "reply", id: call.id, error: { message: error.message, code } };
    }
    member.port.send(reply);
  }

  private run(member: Member, call: IpcCall): Promise<unknown> {
    const operation = this.operations[call.op] as (member: Member, ...args: unknown[]) => Promise<unknown>;
    return operation(member, ...call.args);
  }

  /** Each call's implementation: the memory engine's, plus this host's bookkeeping. */
  private readonly operations: {
    [K in IpcOperation]: (member: Member, ...args: IpcOperations[K]) => Promise<unknown>;
  } = {
    subscribe: (member, channels) => this.subscribe(member, channels),
    unsubscribe: (member, channels) => this.unsubscribe(member, channels),
    publish: (_member, channel, data, options) => this.broker.publish(channel, data, options),
    publishJoin: (_member, channel, info) => this.broker.publishJoin(channel, info),
    publishLeave: (_member, channel, info) => this.broker.publishLeave(channel, info),
    history: (_member, channel, options) => this.broker.history(channel, options),
    removeHistory: (_member, channel) => this.broker.removeHistory(channel),
    addPresence: (member, channel, clientId, info) => {
      member.presence.set(presenceKey(channel, clientId), [channel, clientId]);
      return this.presence.addPresence(channel, clientId, info);
    },
    removePresence: (member, channel, clientId) => {
      member.presence.delete(presenceKey(channel, clientId));
      return this.presence.removePresence(channel, clientId);
    },
    presence: (_member, channel) => this.presence.presence(channel),
    presenceStats: (_member, channel) => this.presence.presenceStats(channel),
    publishControl: async (_member, data) => {
      for (const member of this.members) member.port.send({ turbine: "control", data });
    },
    encodePushes: async (member, protocol) => {
      member.protocols.add(protocol);
    },
    acquireUserConnection: async (member, user, limit) => this.acquireUserConnection(member, user, limit),
    releaseUserConnection: async (member, user) => this.releaseUserConnections(member, user, 1),
    nodeInfo: () => this.nodeInfo(),
    channelCounts: async () => [...mergeChannels(await this.survey("channels"))],
  };

  private acquireUserConnection(member: Member, user: string, limit: number): boolean {
    // A worker already gone holds no place: its count would never be released.
    if (!this.members.has(member)) return false;
    const count = this.userConnections.get(user) ?? 0;
    if (count >= limit) return false;
    this.userConnections.set(user, count + 1);
    member.users.set(user, (member.users.get(user) ?? 0) + 1);
    return true;
  }

  /** Uncount `count` of the user's connections on this worker (no more than it counted). */
  private releaseUserConnections(member: Member, user: string, count: number): void {
    const own = member.users.get(user) ?? 0;
    const released = Math.min(own, count);
    if (released === 0) return;
    if (own === released) member.users.delete(user);
    else member.users.set(user, own - released);
    const left = (this.userConnections.get(user) ?? 0) - released;
    if (left > 0) this.userConnections.set(user, left);
    else this.userConnections.delete(user);
  }

  /**
   * Every attached worker surveyed now, merged into one node: clients and subscriptions summed, users counted
   * once over the workers' lists. The channels are the ones the workers subscribed here: each subscribes a
   * channel for its first subscriber and unsubscribes it after its last, on the same ordered channel as its
   * answer, so by the time it answered, its channels here are its hub's.
   */
  async nodeInfo(): Promise<GroupNodeInfo> {
    const figures = await this.survey("users");
    const users = new Set<string>();
    for (const figure of figures) for (const user of parseList<string>(figure.users)) users.add(user);
    return {
      uid: this.uid,
      uptime: Math.floor((Date.now() - this.startedAt) / 1000),
      numClients: figures.reduce((sum, { numClients }) => sum + numClients, 0),
      numUsers: users.size,
      numChannels: this.subscribers.size,
      numSubs: figures.reduce((sum, { numSubs }) => sum + numSubs, 0),
    };
  }

  /** Every attached worker's figures now, with `list`; a worker that gives none in time is left out. */
  private async survey(list: SurveyList): Promise<PackedFigures[]> {
    const id = this.nextSurveyId++;
    const answers = await Promise.all([...this.members].map((member) => this.ask(member, id, list)));
    return answers.filter((figures): figures is PackedFigures => figures !== undefined);
  }

  private ask(member: Member, id: number, list: SurveyList): Promise<PackedFigures | undefined> {
    return new Promise((resolve) => {
      const done = (figures: PackedFigures | undefined) => {
        clearTimeout(timer);
        member.surveys.delete(id);
        resolve(figures);
      };
      const timer = setTimeout(() => done(undefined), SURVEY_TIMEOUT_MS);
      member.surveys.set(id, done);
      member.port.send({ turbine: "survey", id, list });
    });
  }

  private async subscribe(member: Member, channels: string[]): Promise<void> {
    for (const channel of channels) {
      member.channels.add(channel);
      let set = this.subscribers.get(channel);
      if (set === undefined) this.subscribers.set(channel, (set = new Set()));
      set.add(member);
    }
  }

  private async unsubscribe(member: Member, channels: string[]): Promise<void> {
    for (const channel of channels) {
      member.channels.delete(channel);
      const set = this.subscribers.get(channel);
      set?.delete(member);
      if (set?.size === 0) this.subscribers.delete(channel);
    }
  }

  private async detach(member: Member): Promise<void> {
    this.members.delete(member);
    for (const done of [...member.surveys.values()]) done(undefined);
    for (const [user, count] of [...member.users]) this.releaseUserConnections(member, user, count);
    await this.unsubscribe(member, [...member.channels]);
    const entries = [...member.presence.values()];
    member.presence.clear();
    await Promise.all(entries.map(([channel, clientId]) => this.presence.removePresence(channel, clientId)));
  }

  /** A publication to the workers subscribed to its channel, with its push encoded for those that want it. */
  private pushPublication(
    channel: string,
    pub: Publication,
    position: StreamPosition,
    delta: boolean,
    prev: Publication | undefined,
  ): void {
    const members = this.subscribers.get(channel);
    if (members === undefined) return;
    const packed = packPublication(pub, position, delta, prev);
    const units = new Map<ProtocolType, string | undefined>();
    const unit = (protocol: ProtocolType) => {
      if (units.has(protocol)) return units.get(protocol);
      const encoded = this.encodePush?.(protocol, channel, pub, position);
      const text = encoded instanceof Uint8Array ? latin1(encoded) : undefined;
      units.set(protocol, text);
      return text;
    };
    for (const member of members) {
      const event: IpcEvent = { turbine: "publication", channel, pub: packed };
      for (const protocol of member.protocols) event[protocol] = unit(protocol);
      member.port.send(event);
    }
  }

  private push(channel: string, event: IpcEvent): void {
    const set = this.subscribers.get(channel);
    if (set !== undefined) for (const member of set) member.port.send(event);
  }
}

/** Subscriber counts by channel, summed over the workers' figures. */
function mergeChannels(figures: PackedFigures[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const figure of figures)
    for (const [channel, count] of parseList<[string, number]>(figure.channels))
      counts.set(channel, (counts.get(channel) ?? 0) + count);
  return counts;
}

/** A worker's list as it sent it (JSON text), or none. */
function parseList<T>(text: string | undefined): T[] {
  return text === undefined ? [] : (JSON.parse(text) as T[]);
}

function presenceKey(channel: string, clientId: string): string {
  return `${channel}\0${clientId}`;
}
