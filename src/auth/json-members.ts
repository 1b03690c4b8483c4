import { type MemberRange, scanMembers, skipWhitespace } from "../protocol/json-scan.js";

/** One member of a JSON object: its decoded key and the exact source text of its value. */
export interface JsonMember {
  readonly key: string;
  /** The value as written in the document, e.g. `{"a": 1}` or `12345678901234567890`, never re-serialised. */
  readonly raw: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Lists the members of a JSON object in document order, duplicates included, each with its value's source
 * text: Centrifugo hands `info`, `data` and `meta` on byte for byte and reads integers from their literal
 * form, which `JSON.parse` alone cannot give back. Undefined when `text` is not a valid JSON object.
 */
export function objectMembers(text: string): JsonMember[] | undefined {
  const b = encoder.encode(text);
  const ranges: MemberRange[] = [];
  const end = scanMembers(b, skipWhitespace(b, 0, b.length), b.length, ranges);
  if (end < 0 || skipWhitespace(b, end, b.length) !== b.length) return undefined;
  const slice = (start: number, stop: number) => decoder.decode(b.subarray(start, stop));
  return ranges.map((m) => ({
    key: JSON.parse(slice(m.keyStart, m.keyEnd)) as string,
    raw: slice(m.valueStart, m.valueEnd),
  }));
}
