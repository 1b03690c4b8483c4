import type { Command } from "./gen/client_pb.js";

/**
 * Failures of the wire codecs. They live apart from `codec.ts` so that the codecs can throw them without an
 * import cycle.
 */

/** A frame could not be decoded into commands: malformed JSON or Protobuf, or a value of the wrong type. */
export class ProtocolDecodeError extends Error {
  /**
   * @param decoded the commands of the frame that came before the malformed one; Centrifugo decodes a frame
   * command by command, so those still run before the connection closes.
   */
  constructor(
    message: string,
    readonly decoded: readonly Command[] = [],
  ) {
    super(message);
    this.name = "ProtocolDecodeError";
  }
}

/**
 * A reply cannot be represented in the connection's protocol: in JSON, a `bytes` field (publication data,
 * info, …) that is not valid JSON. Centrifugo answers this with disconnect 3506 "inappropriate protocol".
 */
export class InappropriateProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InappropriateProtocolError";
  }
}
