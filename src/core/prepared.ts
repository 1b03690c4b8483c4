import { create } from "@bufbuild/protobuf";
import type { ProtocolType } from "../protocol/codec.js";
import { codecFor } from "../protocol/codec.js";
import {
  encodeJsonMessage,
  encodeProtobufMessage,
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
  /** By variant: JSON, Protobuf, then the bare-push ones of unidirectional clients (see `variant`). */
  private readonly units: (Uint8Array | Error | undefined)[] = [undefined, undefined, undefined, undefined];

  constructor(readonly push: Push) {}

  /**
   * The encoded message for this protocol (a bare Push for unidirectional clients), or the error that encoding
   * it raised (e.g. binary data to JSON).
   */
  unit(protocol: ProtocolType, unidirectional = false): Uint8Array | Error {
    const i = variant(protocol, unidirectional);
    return (this.units[i] ??= encodePush(protocol, unidirectional, this.push));
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
  deltaUnit(protocol: ProtocolType, hasBase: boolean, unidirectional = false): Uint8Array | Error {
    const usePatch = hasBase && this.prevData !== undefined;
    const key = `${variant(protocol, unidirectional)}:${usePatch}`;
    let unit = this.deltaVariants.get(key);
    if (unit === undefined) {
      const { data, delta } = deltaData(usePatch ? this.prevData : undefined, this.pub.data);
      const pub = { ...this.pub, data: wireDeltaData(protocol, data), delta };
      unit = encodePush(protocol, unidirectional, create(PushSchema, { channel: this.channel, pub }));
      this.deltaVariants.set(key, unit);
    }
    return unit;
  }
}

function variant(protocol: ProtocolType, unidirectional: boolean): number {
  return (protocol === "json" ? 0 : 1) + (unidirectional ? 2 : 0);
}

/**
 * A push as a client's message unit: wrapped in a Reply for bidirectional clients, bare for unidirectional
 * ones (centrifuge client.go `encodeReply`); an encoding error is returned, not thrown.
 */
export function encodePush(protocol: ProtocolType, unidirectional: boolean, push: Push): Uint8Array | Error {
  try {
    if (!unidirectional) return codecFor(protocol).encodeReply(create(ReplySchema, { push }));
    return protocol === "json"
      ? encodeJsonMessage(PushSchema, push)
      : encodeProtobufMessage(PushSchema, push);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
