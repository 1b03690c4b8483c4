/**
 * Fuzz targets: the JSON and Protobuf client command decoders. Any frame decodes into commands or fails with
 * ProtocolDecodeError (the client is closed with 3501); nothing else may escape.
 */
import fc from "fast-check";
import { CommandSchema } from "../../src/protocol/gen/client_pb.js";
import { ProtocolDecodeError } from "../../src/protocol/errors.js";
import { decodeJsonMessage, jsonCodec } from "../../src/protocol/json.js";
import { encodeProtobufMessage, protobufCodec } from "../../src/protocol/protobuf.js";
import { expectOnly, fuzz, mutated, utf8 } from "./harness.js";
import { shapedJson } from "./shapes.js";

/** Up to 3 command-shaped objects joined by newlines, as a JSON frame holds them. */
const commandLines = fc
  .tuple(fc.array(shapedJson(CommandSchema), { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([lines, trailing]) => lines.join("\n") + (trailing ? "\n" : ""));

const jsonFrame = fc.oneof(
  { weight: 4, arbitrary: commandLines.map(utf8.encode) },
  { weight: 2, arbitrary: mutated(commandLines.map(utf8.encode)) },
  fc.string({ unit: "binary", maxLength: 40 }).map(utf8.encode),
  fc.uint8Array({ maxLength: 40 }),
);

fuzz<Uint8Array>({
  name: "json-commands",
  arbitrary: jsonFrame,
  numRuns: 3000,
  fromCorpus: (content) => content,
  toCorpus: (frame) => frame,
  check: (frame) => expectOnly(() => jsonCodec.decodeCommands(frame), ProtocolDecodeError),
});

/** Commands the JSON decoder accepts, re-encoded as length-prefixed Protobuf: valid frames to mutate. */
const protobufCommands = fc
  .array(shapedJson(CommandSchema), { minLength: 1, maxLength: 3 })
  .map((objects) => {
    const units: Uint8Array[] = [];
    for (const text of objects) {
      try {
        const bytes = encodeProtobufMessage(
          CommandSchema,
          decodeJsonMessage(CommandSchema, utf8.encode(text)),
        );
        units.push(uvarint(bytes.length), bytes);
      } catch {
        // Not a command: this object adds nothing to the frame.
      }
    }
    return Buffer.concat(units);
  });

const protobufFrame = fc.oneof(
  { weight: 2, arbitrary: protobufCommands },
  { weight: 4, arbitrary: mutated(protobufCommands) },
  fc.uint8Array({ maxLength: 40 }),
);

fuzz<Uint8Array>({
  name: "protobuf-commands",
  arbitrary: protobufFrame,
  numRuns: 3000,
  fromCorpus: (content) => content,
  toCorpus: (frame) => frame,
  check: (frame) => expectOnly(() => protobufCodec.decodeCommands(frame), ProtocolDecodeError),
});

function uvarint(value: number): Uint8Array {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return Uint8Array.from(out);
}
