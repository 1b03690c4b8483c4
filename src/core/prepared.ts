import { create } from "@bufbuild/protobuf";
import type { ProtocolCodec, ProtocolType } from "../protocol/codec.js";
import { codecFor } from "../protocol/codec.js";
import {
  type Publication as ProtoPublication,
  type Push,
  PushSchema,
  ReplySchema,
} from "../protocol/index.js";
import { deltaData, wireDeltaData } from "./delta.js";

/**
 * A push shared by every subscriber of a channel: encoded at most once per protocol, on first use, so
 * fan-out to N subscribers costs one or two encodings, not N.
 */
export class PreparedPush {
  private json: Uint8Array | Error | undefined;
  private protobuf: Uint8Array | Error | undefined;

  constructor(readonly push: Push) {}

  /** The encoded message for this protocol, or the error that encoding it raised (e.g. binary data to JSON). */
  unit(protocol: ProtocolType): Uint8Array | Error {
    if (protocol === "json") {
      this.json ??= encode(codecFor("json"), this.push);
      return this.json;
    }
    this.protobuf ??= encode(codecFor("protobuf"), this.push);
    return this.protobuf;
  }
}

/**
 * A publication push plus what subscribers need to check their stream position, and the variants for
 * delta-negotiated subscribers (also encoded once per channel).
 */
export class PreparedPublication extends PreparedPush {
  private readonly deltaVariants = new Map<string, Uint8Array | Error>();

  /**
   * @param epoch the stream the publication's offset belongs to ("" when it was not saved to history).
   * @param time unix ms when the broker accepted it, for `client.channel_position_max_time_lag`.
   * @param prevData the channel's previous publication data when this one was published with `delta`.
   */
  constructor(
    readonly channel: string,
    readonly pub: ProtoPublication,
    readonly epoch: string,
    readonly time: number,
    private readonly prevData?: Uint8Array,
  ) {
    super(create(PushSchema, { channel, pub }));
  }

  /**
   * The message for a fossil-delta subscriber: a patch against the previous publication once the
   * subscriber holds that base (`hasBase`), otherwise the full data.
   */
  deltaUnit(protocol: ProtocolType, hasBase: boolean): Uint8Array | Error {
    const usePatch = hasBase && this.prevData !== undefined;
    const key = `${protocol}:${usePatch}`;
    let unit = this.deltaVariants.get(key);
    if (unit === undefined) {
      const { data, delta } = deltaData(usePatch ? this.prevData : undefined, this.pub.data);
      const pub = { ...this.pub, data: wireDeltaData(protocol, data), delta };
      unit = encode(codecFor(protocol), create(PushSchema, { channel: this.channel, pub }));
      this.deltaVariants.set(key, unit);
    }
    return unit;
  }
}

function encode(codec: ProtocolCodec, push: Push): Uint8Array | Error {
  try {
    return codec.encodeReply(create(ReplySchema, { push }));
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
