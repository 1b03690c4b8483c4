import type { FrameType, TransportMetrics } from "./metrics.js";
import type { PreparedPublication, PreparedPush } from "./prepared.js";

/** `HubClient.deliverPublication`'s answer when the subscription's tags filter skipped the publication. */
export const FILTERED = -1;

/** What the hub needs from a connected client to route messages to it. */
export interface HubClient {
  readonly id: string;
  readonly user: string;
  /** Where deliveries to this client are counted; clients of one transport share it. */
  readonly transportMetrics: TransportMetrics;
  /**
   * Deliver a publication of a channel this client is subscribed to.
   * @returns the bytes queued for the client, 0 when nothing was (yet), or FILTERED.
   */
  deliverPublication(prepared: PreparedPublication): number;
  /**
   * Deliver a join or leave push, if this client's subscription asked for them.
   * @returns the bytes queued for the client, 0 when nothing was.
   */
  deliverJoinLeave(channel: string, prepared: PreparedPush): number;
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

  /** @returns how many subscribers the tags filter skipped. */
  broadcastPublication(prepared: PreparedPublication): number {
    const set = this.channels.get(prepared.channel);
    if (set === undefined) return 0;
    return fanOut(set, "push_publication", (client) => client.deliverPublication(prepared));
  }

  broadcastJoinLeave(channel: string, prepared: PreparedPush, frame: FrameType): void {
    const set = this.channels.get(channel);
    if (set !== undefined) fanOut(set, frame, (client) => client.deliverJoinLeave(channel, prepared));
  }

  hasSubscribers(channel: string): boolean {
    return this.channels.has(channel);
  }

  client(id: string): C | undefined {
    return this.clients.get(id);
  }

  userClients(user: string): ReadonlySet<C> {
    const current = this.users.get(user);
    if (current === undefined) return new Set();
    return current instanceof Set ? current : new Set([current]);
  }

  /** The users with a connection here, each once. */
  userIds(): IterableIterator<string> {
    return this.users.keys();
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

/**
 * Deliver to every subscriber, counting the deliveries once per broadcast rather than per subscriber: summed
 * here and reported once for each run of subscribers sharing a transport (once in all, while a channel's
 * subscribers use one transport).
 * @returns how many subscribers the tags filter skipped.
 */
function fanOut<C extends HubClient>(set: Set<C>, frame: FrameType, deliver: (client: C) => number): number {
  let filtered = 0;
  let metrics: TransportMetrics | undefined;
  let count = 0;
  let bytes = 0;
  for (const client of set) {
    const queued = deliver(client);
    if (queued <= 0) {
      if (queued === FILTERED) filtered++;
      continue;
    }
    if (client.transportMetrics !== metrics) {
      metrics?.sent(frame, count, bytes);
      metrics = client.transportMetrics;
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += queued;
  }
  metrics?.sent(frame, count, bytes);
  return filtered;
}
