/**
 * Centrifugo's Protobuf client protocol: a binary frame holds one or more Commands, each preceded by its
 * length as a uvarint; replies are framed the same way and concatenated.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { ProtocolCodec } from "./codec.js";
import { ProtocolDecodeError } from "./errors.js";
import { type Command, CommandSchema, type Reply, ReplySchema } from "./gen/client_pb.js";
import { ProtoReader } from "./proto-reader.js";
import { writeNested, writeProtoMessage } from "./proto-writer.js";
import { ByteSink } from "./sink.js";

const sink = new ByteSink();

/** The Protobuf protocol codec. */
export const protobufCodec: ProtocolCodec = {
  type: "protobuf",
  decodeCommands,
  encodeReply,
  joinFrame,
};

/** Encode any protocol message as Protobuf, without a length prefix. */
export function encodeProtobufMessage<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): Uint8Array {
  sink.reset();
  writeProtoMessage(sink, schema, message);
  return sink.take();
}

/** Decode `bytes` (exactly one message, no length prefix). Throws ProtocolDecodeError on malformed input. */
export function decodeProtobufMessage<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
): MessageShape<Desc> {
  return new ProtoReader(bytes).message(schema, bytes.length, 0) as MessageShape<Desc>;
}

function encodeReply(reply: Reply): Uint8Array {
  sink.reset();
  writeNested(sink, ReplySchema, reply);
  return sink.take();
}

/** An empty frame holds no commands (as upstream decodes it); a truncated one is an error. */
function decodeCommands(frame: Uint8Array): Command[] {
  const reader = new ProtoReader(frame);
  const commands: Command[] = [];
  try {
    while (reader.pos < frame.length) {
      commands.push(reader.message(CommandSchema, reader.length(), 0) as Command);
    }
  } catch (err) {
    // Centrifugo decodes a frame command by command: those before the malformed one still run.
    throw err instanceof ProtocolDecodeError ? new ProtocolDecodeError(err.message, commands) : err;
  }
  return commands;
}

function joinFrame(units: readonly Uint8Array[]): Uint8Array {
  if (units.length === 1) return units[0] as Uint8Array;
  let size = 0;
  for (const unit of units) size += unit.length;
  const frame = new Uint8Array(size);
  let pos = 0;
  for (const unit of units) {
    frame.set(unit, pos);
    pos += unit.length;
  }
  return frame;
}
