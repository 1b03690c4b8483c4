/**
 * Redis key and PUB/SUB channel names for one `prefix`, spelled as Centrifugo's Redis engine spells them, so
 * an operator finds the same keys (and history and presence written by Centrifugo stay readable). Like
 * upstream, the meta key of channel `x` is the stream key of a channel named `meta.x`: avoid such names.
 *
 * On a Redis Cluster the channel part is wrapped in a hash tag (`prefix.stream.{x}`), as Centrifugo does, so
 * all of a channel's keys and its PUB/SUB channel hash to one slot and each Lua script touches one node.
 */
export class RedisKeys {
  private readonly pubSubPrefix: string;
  private readonly open: string;
  private readonly close: string;

  /** `cluster`: wrap channel names in hash tags. */
  constructor(
    readonly prefix: string,
    readonly cluster = false,
  ) {
    this.pubSubPrefix = `${prefix}.client.`;
    this.open = cluster ? "{" : "";
    this.close = cluster ? "}" : "";
  }

  /** Stream holding the channel's publications, entry id `<offset>-0`, field `d`. */
  stream(channel: string): string {
    return `${this.prefix}.stream.${this.tag(channel)}`;
  }

  /** Hash of the channel's stream: `e` epoch, `s` top offset, `v`/`ve` last version and version epoch. */
  streamMeta(channel: string): string {
    return `${this.prefix}.stream.meta.${this.tag(channel)}`;
  }

  /** List holding the channel's publications newest first (`history_use_lists`). */
  list(channel: string): string {
    return `${this.prefix}.list.${this.tag(channel)}`;
  }

  /** Hash of the channel's list, as {@link streamMeta}. */
  listMeta(channel: string): string {
    return `${this.prefix}.list.meta.${this.tag(channel)}`;
  }

  /** Hash caching a publish result (`e` epoch, `s` offset) for an idempotency key. */
  result(channel: string, idempotencyKey: string): string {
    return `${this.prefix}.result.${this.tag(channel)}.${idempotencyKey}`;
  }

  /** Hash of client id → ClientInfo (Protobuf). */
  presenceData(channel: string): string {
    return `${this.prefix}.presence.data.${this.tag(channel)}`;
  }

  /** Sorted set of client ids scored by their expiry time (Unix seconds). */
  presenceExpire(channel: string): string {
    return `${this.prefix}.presence.expire.${this.tag(channel)}`;
  }

  /** The PUB/SUB channel carrying a channel's publications, joins and leaves between nodes. */
  pubSub(channel: string): string {
    return this.pubSubPrefix + this.tag(channel);
  }

  /**
   * The channel a PUB/SUB message arrived on, from the Redis channel name {@link pubSub} made; undefined for
   * a name it cannot have made.
   */
  channelOf(redisChannel: Buffer): string | undefined {
    const start = Buffer.byteLength(this.pubSubPrefix) + this.open.length;
    const end = redisChannel.length - this.close.length;
    if (end < start) return undefined;
    if (this.cluster && (redisChannel[start - 1] !== 0x7b || redisChannel[end] !== 0x7d)) return undefined;
    return redisChannel.toString("utf8", start, end);
  }

  /** The PUB/SUB channel carrying control messages between nodes. */
  get control(): string {
    return `${this.prefix}.control`;
  }

  private tag(channel: string): string {
    return this.open + channel + this.close;
  }
}
