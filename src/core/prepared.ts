import { create } from "@bufbuild/protobuf";
import type { ProtocolCodec, ProtocolType } from "../protocol/codec.js";
import { codecFor } from "../protocol/codec.js";
import {
  type Publication as ProtoPublication,
  type Push,
  PushSchema,
  ReplySchema,
} from "../protocol/index.js";

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

/** A publication push plus what subscribers need to check their stream position. */
export class PreparedPublication extends PreparedPush {
  /** @param epoch the stream the publication's offset belongs to ("" when it was not saved to history). */
  constructor(
    readonly channel: string,
    readonly pub: ProtoPublication,
    readonly epoch: string,
  ) {
    super(create(PushSchema, { channel, pub }));
  }
}

function encode(codec: ProtocolCodec, push: Push): Uint8Array | Error {
  try {
    return codec.encodeReply(create(ReplySchema, { push }));
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
