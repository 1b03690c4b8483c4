import type { ClientInfo, PresenceManager, PresenceStats } from "../types.js";
import type { RedisShard } from "./connection.js";
import { RedisKeys } from "./keys.js";
import { presenceAddScript, presenceGetScript, presenceRemoveScript, presenceStatsScript } from "./lua.js";
import { decodeClientInfo, encodeClientInfo } from "./messages.js";

/** Centrifugo's `presence_ttl` default: 60 s. */
export const DEFAULT_PRESENCE_TTL_MS = 60_000;

export interface RedisPresenceOptions {
  /** Prefix of every key (`engine.redis.prefix`). */
  prefix: string;
  /** An entry disappears this long after its last `addPresence`, in ms (`presence_ttl`). Default 60 s. */
  ttlMs?: number;
}

/**
 * A `PresenceManager` on Redis, shared by every node on it. Per channel, as in Centrifugo: a hash of client id
 * → ClientInfo and a sorted set of client id by expiry time; reads drop the expired entries first, and both
 * keys expire `ttlMs` after the last add, so an abandoned channel leaves nothing behind.
 */
export class RedisPresenceManager implements PresenceManager {
  private readonly keys: RedisKeys;
  private readonly ttlMs: number;
  private closed = false;

  constructor(
    private readonly shard: RedisShard,
    options: RedisPresenceOptions,
  ) {
    shard.retain();
    this.keys = new RedisKeys(options.prefix, shard.cluster);
    this.ttlMs = Math.max(1, Math.ceil(options.ttlMs ?? DEFAULT_PRESENCE_TTL_MS));
  }

  /** Adds or refreshes a client's presence (replacing its info) for another TTL. */
  async addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    this.shard.ensureAvailable();
    await presenceAddScript.run(this.shard.command, this.channelKeys(channel), [
      String(this.ttlMs),
      clientId,
      encodeClientInfo(info),
    ]);
  }

  /** `user` is not needed: without a user mapping nothing is kept per user. */
  async removePresence(channel: string, clientId: string): Promise<void> {
    this.shard.ensureAvailable();
    await presenceRemoveScript.run(this.shard.command, this.channelKeys(channel), [clientId]);
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    this.shard.ensureAvailable();
    const flat = (await presenceGetScript.run(this.shard.command, this.channelKeys(channel), [])) as Buffer[];
    const entries: [string, ClientInfo][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      entries.push([(flat[i] as Buffer).toString(), decodeClientInfo(flat[i + 1] as Buffer)]);
    }
    // fromEntries defines own properties, so a client id like "__proto__" stays an ordinary key.
    return Object.fromEntries(entries);
  }

  /** Unique users count anonymous clients (user "") as one user, as Centrifugo does. */
  async presenceStats(channel: string): Promise<PresenceStats> {
    this.shard.ensureAvailable();
    const reply = await presenceStatsScript.run(this.shard.command, this.channelKeys(channel), []);
    const [numClients, numUsers] = reply as [number, number];
    return { numClients, numUsers };
  }

  /** Lets go of the shard. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.shard.release();
  }

  private channelKeys(channel: string): string[] {
    return [this.keys.presenceExpire(channel), this.keys.presenceData(channel)];
  }
}
