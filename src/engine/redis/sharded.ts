/**
 * Client-side sharding over several Redis setups (`engine.redis.address` with several entries, or several
 * `cluster_address` / `sentinel_address` entries): each channel belongs to one shard, picked by
 * {@link consistentIndex} as Centrifugo picks it, and everything about the channel (history, PUB/SUB,
 * presence) happens there. Control messages go to every shard's subscribers: each node subscribes the control
 * channel on all shards and publishes round-robin, as Centrifugo does, so control keeps working while some
 * shards are down.
 */
import type {
  Broker,
  BrokerEventHandler,
  ClientInfo,
  ControlHandler,
  Controller,
  HistoryOptions,
  HistoryResult,
  PresenceManager,
  PresenceStats,
  PublishOptions,
  PublishResult,
} from "../types.js";
import { consistentIndex } from "./shard-index.js";

/** Splits channels by the shard they belong to; shards without channels are left out. */
function byShard<T>(shards: readonly T[], channels: readonly string[]): Map<T, string[]> {
  const groups = new Map<T, string[]>();
  for (const channel of channels) {
    const shard = shards[consistentIndex(channel, shards.length)] as T;
    const group = groups.get(shard);
    if (group === undefined) groups.set(shard, [channel]);
    else group.push(channel);
  }
  return groups;
}

function pick<T>(shards: readonly T[], channel: string): T {
  return shards[consistentIndex(channel, shards.length)] as T;
}

function nonEmpty<T>(shards: readonly T[], what: string): readonly T[] {
  if (shards.length === 0) throw new Error(`sharded ${what} needs at least one shard`);
  return shards;
}

/** A broker that routes each channel to one of several brokers. */
export class ShardedBroker implements Broker {
  private readonly shards: readonly Broker[];

  /** `shards` in configuration order: the order decides which channel goes where. */
  constructor(shards: readonly Broker[]) {
    this.shards = nonEmpty(shards, "broker");
  }

  async registerEventHandler(handler: BrokerEventHandler): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.registerEventHandler(handler)));
  }

  async subscribe(channels: string[]): Promise<void> {
    const groups = byShard(this.shards, channels);
    await Promise.all([...groups].map(([shard, group]) => shard.subscribe(group)));
  }

  async unsubscribe(channels: string[]): Promise<void> {
    const groups = byShard(this.shards, channels);
    await Promise.all([...groups].map(([shard, group]) => shard.unsubscribe(group)));
  }

  publish(channel: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    return pick(this.shards, channel).publish(channel, data, options);
  }

  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return pick(this.shards, channel).publishJoin(channel, info);
  }

  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return pick(this.shards, channel).publishLeave(channel, info);
  }

  history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    return pick(this.shards, channel).history(channel, options);
  }

  removeHistory(channel: string): Promise<void> {
    return pick(this.shards, channel).removeHistory(channel);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.close()));
  }
}

/** A presence manager that routes each channel to one of several presence managers. */
export class ShardedPresenceManager implements PresenceManager {
  private readonly shards: readonly PresenceManager[];

  /** `shards` in configuration order: the order decides which channel goes where. */
  constructor(shards: readonly PresenceManager[]) {
    this.shards = nonEmpty(shards, "presence manager");
  }

  addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    return pick(this.shards, channel).addPresence(channel, clientId, info);
  }

  removePresence(channel: string, clientId: string, user: string): Promise<void> {
    return pick(this.shards, channel).removePresence(channel, clientId, user);
  }

  presence(channel: string): Promise<Record<string, ClientInfo>> {
    return pick(this.shards, channel).presence(channel);
  }

  presenceStats(channel: string): Promise<PresenceStats> {
    return pick(this.shards, channel).presenceStats(channel);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.close()));
  }
}

/** A controller listening on every shard and publishing on one shard after another. */
export class ShardedController implements Controller {
  private readonly shards: readonly Controller[];
  private round = 0;

  constructor(shards: readonly Controller[]) {
    this.shards = nonEmpty(shards, "controller");
  }

  async registerControlHandler(handler: ControlHandler): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.registerControlHandler(handler)));
  }

  publishControl(data: Uint8Array): Promise<void> {
    const shard = this.shards[this.round] as Controller;
    this.round = (this.round + 1) % this.shards.length;
    return shard.publishControl(data);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.close()));
  }
}
