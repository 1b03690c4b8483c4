import type { ClientInfo, PresenceManager, PresenceStats } from "../types.js";

/** Centrifugo's `presence_ttl` default: 60 s. */
export const DEFAULT_PRESENCE_TTL_MS = 60_000;
/** How often expired presence entries are removed from memory. */
export const DEFAULT_PRESENCE_SWEEP_INTERVAL_MS = 1000;

export interface MemoryPresenceOptions {
  /** An entry disappears this long after its last `addPresence`, in ms. Default 60 s. */
  ttlMs?: number;
  /** Period of the expiry sweep, in ms. Reads never return expired entries between sweeps either. */
  sweepIntervalMs?: number;
  /** Clock in milliseconds; must not go backwards. Default `Date.now`. */
  now?: () => number;
}

/** What the manager holds in memory, for tests and diagnostics. */
export interface MemoryPresenceRetained {
  channels: number;
  entries: number;
}

interface PresenceEntry {
  channel: string;
  clientId: string;
  info: ClientInfo;
  expiresAt: number;
}

interface ChannelPresence {
  clients: Map<string, PresenceEntry>;
  /** Client count per user id, so stats need no scan. */
  users: Map<string, number>;
}

/** A single-node `PresenceManager` in process memory; entries expire unless re-added within the TTL. */
export class MemoryPresenceManager implements PresenceManager {
  private readonly channels = new Map<string, ChannelPresence>();
  /**
   * Every entry, least recently added first. One TTL for all means this is also expiry order, so removing the
   * expired entries only ever looks at the front: cheap enough to do before every read as well as in the sweep.
   */
  private readonly byAge = new Set<PresenceEntry>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: MemoryPresenceOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_PRESENCE_TTL_MS;
    this.now = options.now ?? Date.now;
    this.sweepTimer = setInterval(
      () => this.sweep(),
      options.sweepIntervalMs ?? DEFAULT_PRESENCE_SWEEP_INTERVAL_MS,
    );
    this.sweepTimer.unref();
  }

  /** Adds or refreshes a client's presence (replacing its info) for another TTL. */
  async addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    const now = this.now();
    this.expire(now);
    const existing = this.channels.get(channel)?.clients.get(clientId);
    if (existing) this.drop(existing);
    this.insert({ channel, clientId, info, expiresAt: now + this.ttlMs });
  }

  /** `user` is not needed here: the entry remembers its own. */
  async removePresence(channel: string, clientId: string): Promise<void> {
    const entry = this.channels.get(channel)?.clients.get(clientId);
    if (entry) this.drop(entry);
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    this.expire(this.now());
    const clients = this.channels.get(channel)?.clients;
    if (!clients) return {};
    // fromEntries defines own properties, so a client id like "__proto__" stays an ordinary key.
    return Object.fromEntries(Array.from(clients, ([clientId, entry]) => [clientId, entry.info]));
  }

  /** Unique users count anonymous clients (user "") as one user, as Centrifugo does. */
  async presenceStats(channel: string): Promise<PresenceStats> {
    this.expire(this.now());
    const entry = this.channels.get(channel);
    return { numClients: entry?.clients.size ?? 0, numUsers: entry?.users.size ?? 0 };
  }

  /** Stops the sweep timer. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
  }

  /** Removes expired entries; runs every `sweepIntervalMs`. */
  sweep(): void {
    this.expire(this.now());
  }

  /** Counts of what is held in memory. */
  retained(): MemoryPresenceRetained {
    return { channels: this.channels.size, entries: this.byAge.size };
  }

  private expire(now: number): void {
    for (const entry of this.byAge) {
      if (entry.expiresAt > now) return;
      this.drop(entry);
    }
  }

  private insert(entry: PresenceEntry): void {
    let channel = this.channels.get(entry.channel);
    if (!channel) {
      channel = { clients: new Map(), users: new Map() };
      this.channels.set(entry.channel, channel);
    }
    channel.clients.set(entry.clientId, entry);
    const user = entry.info.user;
    channel.users.set(user, (channel.users.get(user) ?? 0) + 1);
    this.byAge.add(entry);
  }

  private drop(entry: PresenceEntry): void {
    this.byAge.delete(entry);
    const channel = this.channels.get(entry.channel);
    if (!channel) return;
    channel.clients.delete(entry.clientId);
    const user = entry.info.user;
    const count = (channel.users.get(user) ?? 0) - 1;
    if (count > 0) channel.users.set(user, count);
    else channel.users.delete(user);
    if (channel.clients.size === 0) this.channels.delete(entry.channel);
  }
}
