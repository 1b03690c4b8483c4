/**
 * Centrifugo's JSON client protocol: a text frame holds one or more Commands separated by `\n` (at most one
 * trailing `\n`); replies are JSON objects joined by `\n`. `bytes` fields are raw embedded JSON in both
 * directions.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { ProtocolCodec } from "./codec.js";
import { ProtocolDecodeError } from "./errors.js";
import { type Command, CommandSchema, type Reply, ReplySchema } from "./gen/client_pb.js";
import { readJsonDocument } from "./json-reader.js";
import { writeJsonMessage } from "./json-writer.js";
import { ByteSink } from "./sink.js";

const NEWLINE = 0x0a;

const sink = new ByteSink();

/** The JSON protocol codec. */
export const jsonCodec: ProtocolCodec = {
  type: "json",
  decodeCommands,
  encodeReply: (reply: Reply) => encodeJsonMessage(ReplySchema, reply),
  joinFrame,
};

/**
 * Encode any protocol message as JSON, e.g. a bare Push for unidirectional transports. Throws
 * InappropriateProtocolError when a `bytes` field is not valid JSON.
 */
export function encodeJsonMessage<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): Uint8Array {
  sink.reset();
  writeJsonMessage(sink, schema, message);
  return sink.take();
}

/**
 * Decode one JSON object (surrounding whitespace allowed) into a protocol message, e.g. the ConnectRequest a
 * unidirectional client sends. Throws ProtocolDecodeError on malformed input.
 */
export function decodeJsonMessage<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
): MessageShape<Desc> {
  return readJsonDocument<MessageShape<Desc>>(bytes, schema);
}

/** One command of a frame; a failure carries the commands decoded before it. */
function decodeCommand(line: Uint8Array, before: readonly Command[]): Command {
  try {
    return decodeJsonMessage(CommandSchema, line);
  } catch (err) {
    throw err instanceof ProtocolDecodeError ? new ProtocolDecodeError(err.message, before) : err;
  }
}

function decodeCommands(frame: Uint8Array): Command[] {
  let end = frame.length;
  if (end > 0 && frame[end - 1] === NEWLINE) end--;
  if (end === 0) throw new ProtocolDecodeError("empty frame");
  const commands: Command[] = [];
  let start = 0;
  for (;;) {
    const newline = frame.indexOf(NEWLINE, start);
    const lineEnd = newline < 0 || newline > end ? end : newline;
    // Each line gets its own view so that scanning can never run into the next command.
    commands.push(decodeCommand(frame.subarray(start, lineEnd), commands));
    if (lineEnd === end) return commands;
    start = lineEnd + 1;
  }
}

function joinFrame(units: readonly Uint8Array[]): Uint8Array {
  if (units.length === 1) return units[0] as Uint8Array;
  let size = Math.max(units.length - 1, 0);
  for (const unit of units) size += unit.length;
  const frame = new Uint8Array(size);
  let pos = 0;
  units.forEach((unit, i) => {
    if (i > 0) frame[pos++] = NEWLINE;
    frame.set(unit, pos);
    pos += unit.length;
  });
  return frame;
}
