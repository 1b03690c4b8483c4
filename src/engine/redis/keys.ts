/**
 * Redis key and PUB/SUB channel names for one `prefix`, spelled as Centrifugo's Redis engine spells them, so
 * an operator finds the same keys (and history and presence written by Centrifugo stay readable). Like
 * upstream, the meta key of channel `x` is the stream key of a channel named `meta.x`: avoid such names.
 */
export class RedisKeys {
  private readonly pubSubPrefix: string;

  constructor(readonly prefix: string) {
    this.pubSubPrefix = `${prefix}.client.`;
  }

  /** Stream holding the channel's publications, entry id `<offset>-0`, field `d`. */
  stream(channel: string): string {
    return `${this.prefix}.stream.${channel}`;
  }

  /** Hash of the channel's stream: `e` epoch, `s` top offset, `v`/`ve` last version and version epoch. */
  streamMeta(channel: string): string {
    return `${this.prefix}.stream.meta.${channel}`;
  }

  /** Hash caching a publish result (`e` epoch, `s` offset) for an idempotency key. */
  result(channel: string, idempotencyKey: string): string {
    return `${this.prefix}.result.${channel}.${idempotencyKey}`;
  }

  /** Hash of client id → ClientInfo (Protobuf). */
  presenceData(channel: string): string {
    return `${this.prefix}.presence.data.${channel}`;
  }

  /** Sorted set of client ids scored by their expiry time (Unix seconds). */
  presenceExpire(channel: string): string {
    return `${this.prefix}.presence.expire.${channel}`;
  }

  /** The PUB/SUB channel carrying a channel's publications, joins and leaves between nodes. */
  pubSub(channel: string): string {
    return this.pubSubPrefix + channel;
  }

  /** The PUB/SUB channel carrying control messages between nodes. */
  get control(): string {
    return `${this.prefix}.control`;
  }

  /** Byte length of the part {@link pubSub} puts before the channel name. */
  get pubSubPrefixLength(): number {
    return Buffer.byteLength(this.pubSubPrefix);
  }
}
