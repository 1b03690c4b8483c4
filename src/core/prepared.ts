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
import { toProtoPublication } from "../engine/wire.js";
import type { EncodedPush, Publication, StreamPosition } from "../engine/types.js";
import { deltaData, wireDeltaData } from "./delta.js";

/**
 * A push shared by every subscriber of a channel: encoded at most once per protocol, on first use, so
 * fan-out to N subscribers costs one or two encodings, not N.
 */
export class PreparedPush {
  /** By variant: JSON, Protobuf, then the bare-push ones of unidirectional clients (see `variant`). */
  protected readonly units: (Uint8Array | Error | undefined)[] = [undefined, undefined, undefined, undefined];
  private message: Push | undefined;

  /** @param push the push, or undefined when a subclass builds it (see {@link buildPush}) on first use. */
  constructor(push?: Push) {
    this.message = push;
  }

  get push(): Push {
    return (this.message ??= this.buildPush());
  }

  /**
   * The encoded message for this protocol (a bare Push for unidirectional clients), or the error that encoding
   * it raised (e.g. binary data to JSON).
   */
  unit(protocol: ProtocolType, unidirectional = false): Uint8Array | Error {
    const i = variant(protocol, unidirectional);
    return (this.units[i] ??= encodePush(protocol, unidirectional, this.push));
  }

  protected buildPush(): Push {
    throw new Error("a PreparedPush needs its push");
  }
}

/** A publication whose Protobuf message is built on first use. */
interface LazyPublication {
  offset: number;
  build(): ProtoPublication;
}

/**
 * A publication push plus what subscribers need to check their stream position, and the variants for
 * delta-negotiated subscribers (also encoded once per channel). The Protobuf publication and its push are
 * built on first use: a publication that arrives with its units encoded (workers, see `fromEngine`) needs
 * neither while its subscribers take those units.
 */
export class PreparedPublication extends PreparedPush {
  private readonly deltaVariants = new Map<string, Uint8Array | Error>();
  private proto: ProtoPublication | LazyPublication;
  /** The publication's offset in its stream (0: not saved to history). */
  readonly offset: number;

  /**
   * @param epoch the stream the publication's offset belongs to ("" when it was not saved to history).
   * @param time unix ms when the broker accepted it, for `client.channel_position_max_time_lag`.
   * @param prevData the channel's previous publication data when this one was published with `delta`.
   * @param encoded units for bidirectional clients encoded by whoever handed the publication over.
   */
  constructor(
    readonly channel: string,
    pub: ProtoPublication | LazyPublication,
    readonly epoch: string,
    readonly time: number,
    private readonly prevData?: Uint8Array,
    private readonly encoded?: EncodedPush,
  ) {
    super();
    this.proto = pub;
    this.offset = "build" in pub ? pub.offset : Number(pub.offset);
  }

  /** A publication as an engine delivers it, with the units its engine may have encoded already. */
  static fromEngine(
    channel: string,
    pub: Publication,
    position: StreamPosition,
    prevData?: Uint8Array,
    encoded?: EncodedPush,
  ): PreparedPublication {
    const lazy = { offset: pub.offset, build: () => publicationProto(channel, pub, position) };
    return new PreparedPublication(channel, lazy, position.epoch, pub.time, prevData, encoded);
  }

  get pub(): ProtoPublication {
    const { proto } = this;
    return "build" in proto ? (this.proto = proto.build()) : proto;
  }

  override unit(protocol: ProtocolType, unidirectional = false): Uint8Array | Error {
    const { encoded } = this;
    if (encoded === undefined || unidirectional) return super.unit(protocol, unidirectional);
    const i = variant(protocol, false);
    const ready = this.units[i] ?? encoded[protocol];
    if (ready !== undefined) return (this.units[i] = ready);
    encoded.missing(protocol);
    return super.unit(protocol, false);
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

  protected override buildPush(): Push {
    return create(PushSchema, { channel: this.channel, pub: this.pub });
  }
}

/**
 * An engine's publication as core pushes it to the subscribers of `channel`: the first of a stream carries its
 * epoch, and one published to another channel (a wildcard subscription's) names it, as centrifuge hub.go sends
 * them.
 */
export function publicationProto(
  channel: string,
  pub: Publication,
  position: StreamPosition,
): ProtoPublication {
  const proto = toProtoPublication(pub);
  if (pub.offset === 1) proto.epoch = position.epoch;
  if (pub.channel !== undefined && pub.channel !== channel) proto.channel = pub.channel;
  return proto;
}

/**
 * The push of an engine's publication to a bidirectional client of `protocol`, byte for byte what a
 * {@link PreparedPublication} of it encodes: for a process that hands publications to several others already
 * encoded (the workers' primary).
 */
export function encodePublicationPush(
  protocol: ProtocolType,
  channel: string,
  pub: Publication,
  position: StreamPosition,
): Uint8Array | Error {
  return encodePush(
    protocol,
    false,
    create(PushSchema, { channel, pub: publicationProto(channel, pub, position) }),
  );
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
