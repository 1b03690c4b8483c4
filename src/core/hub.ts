import type { PreparedPublication, PreparedPush } from "./prepared.js";

/** What the hub needs from a connected client to route messages to it. */
export interface HubClient {
  readonly id: string;
  readonly user: string;
  /** Deliver a publication of a channel this client is subscribed to. */
  deliverPublication(prepared: PreparedPublication): void;
  /** Deliver a join or leave push, if this client's subscription asked for them. */
  deliverJoinLeave(channel: string, prepared: PreparedPush): void;
}

/**
 * Who is connected to this node and who is subscribed where. Pure bookkeeping: the node decides when to
 * subscribe the broker, the clients decide what to write.
 */
export class Hub<C extends HubClient = HubClient> {
  private readonly clients = new Map<string, C>();
  /** A user's one connection, or a set once there are more: most users have one, and a Set costs ~200 bytes. */
  private readonly users = new Map<string, C | Set<C>>();
  private readonly channels = new Map<string, Set<C>>();
  private subscriptionCount = 0;

  addClient(client: C): void {
    this.clients.set(client.id, client);
    const current = this.users.get(client.user);
    if (current === undefined) this.users.set(client.user, client);
    else if (current instanceof Set) current.add(client);
    else if (current !== client) this.users.set(client.user, new Set([current, client]));
  }

  removeClient(client: C): void {
    if (!this.clients.delete(client.id)) return;
    const current = this.users.get(client.user);
    if (current === client) {
      this.users.delete(client.user);
    } else if (current instanceof Set) {
      current.delete(client);
      if (current.size === 0) this.users.delete(client.user);
    }
  }

  /** @returns true when this is the channel's first subscriber on this node. */
  addSubscription(channel: string, client: C): boolean {
    let set = this.channels.get(channel);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.channels.set(channel, set);
    }
    if (!set.has(client)) {
      set.add(client);
      this.subscriptionCount++;
    }
    return first;
  }

  /** @returns true when the channel has no subscribers left on this node. */
  removeSubscription(channel: string, client: C): boolean {
    const set = this.channels.get(channel);
    if (set === undefined || !set.delete(client)) return false;
    this.subscriptionCount--;
    if (set.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  broadcastPublication(prepared: PreparedPublication): void {
    const set = this.channels.get(prepared.channel);
    if (set === undefined) return;
    for (const client of set) client.deliverPublication(prepared);
  }

  broadcastJoinLeave(channel: string, prepared: PreparedPush): void {
    const set = this.channels.get(channel);
    if (set === undefined) return;
    for (const client of set) client.deliverJoinLeave(channel, prepared);
  }

  client(id: string): C | undefined {
    return this.clients.get(id);
  }

  userClients(user: string): ReadonlySet<C> {
    const current = this.users.get(user);
    if (current === undefined) return new Set();
    return current instanceof Set ? current : new Set([current]);
  }

  allClients(): IterableIterator<C> {
    return this.clients.values();
  }

  /** Channels with at least one local subscriber, with their subscriber counts. */
  channelCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [channel, set] of this.channels) counts.set(channel, set.size);
    return counts;
  }

  get numClients(): number {
    return this.clients.size;
  }

  get numUsers(): number {
    return this.users.size;
  }

  get numChannels(): number {
    return this.channels.size;
  }

  get numSubscriptions(): number {
    return this.subscriptionCount;
  }
}
