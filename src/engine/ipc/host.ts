/**
 * The primary's side of the shared memory engine (see client.ts): one MemoryBroker and one
 * MemoryPresenceManager serve every worker's calls. The host remembers which worker subscribed which channel,
 * to push it only those publications, and which presence entries each worker added, to drop them the moment
 * that worker dies instead of a presence TTL later.
 */
import { ClientError } from "../../protocol/codes.js";
import { MemoryBroker } from "../memory/broker.js";
import { MemoryPresenceManager } from "../memory/presence.js";
import type { IpcCall, IpcEvent, IpcOperation, IpcOperations, IpcPort, IpcReply } from "./messages.js";

/** One attached worker: its port, channels and presence entries. */
class Member {
  readonly channels = new Set<string>();
  /** Presence entries this worker added, by {@link presenceKey}. */
  readonly presence = new Map<string, [channel: string, clientId: string]>();

  constructor(readonly port: IpcPort) {}
}

export interface IpcEngineHostOptions {
  /** `channel.history_meta_ttl`, as the single node's memory broker takes it. */
  historyMetaTtlMs: number;
  /** Presence entries expire this long after their last add; the memory engine's 60 s by default. */
  presenceTtlMs?: number;
}

export class IpcEngineHost {
  private readonly broker: MemoryBroker;
  private readonly presence: MemoryPresenceManager;
  private readonly members = new Set<Member>();
  private readonly subscribers = new Map<string, Set<Member>>();

  private constructor(options: IpcEngineHostOptions) {
    this.broker = new MemoryBroker({ historyMetaTtlMs: options.historyMetaTtlMs });
    this.presence = new MemoryPresenceManager({ ttlMs: options.presenceTtlMs });
  }

  static async start(options: IpcEngineHostOptions): Promise<IpcEngineHost> {
    const host = new IpcEngineHost(options);
    await host.broker.registerEventHandler({
      onPublication: (channel, pub, position, delta, prev) =>
        host.push(channel, { turbine: "publication", channel, pub, position, delta, prev }),
      onJoin: (channel, info) => host.push(channel, { turbine: "join", channel, info }),
      onLeave: (channel, info) => host.push(channel, { turbine: "leave", channel, info }),
    });
    return host;
  }

  /** A worker joins: its calls go to `handle`; `detach` when it exits forgets its channels and presence. */
  attach(port: IpcPort): { handle(call: IpcCall): void; detach(): Promise<void> } {
    const member = new Member(port);
    this.members.add(member);
    return { handle: (call) => void this.answer(member, call), detach: () => this.detach(member) };
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
  };

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
    await this.unsubscribe(member, [...member.channels]);
    const entries = [...member.presence.values()];
    member.presence.clear();
    await Promise.all(entries.map(([channel, clientId]) => this.presence.removePresence(channel, clientId)));
  }

  private push(channel: string, event: IpcEvent): void {
    const set = this.subscribers.get(channel);
    if (set !== undefined) for (const member of set) member.port.send(event);
  }
}

function presenceKey(channel: string, clientId: string): string {
  return `${channel}\0${clientId}`;
}
