/** UTF-8 helpers shared by the JSON and Protobuf codecs. */

/**
 * Lenient like Go: invalid sequences become U+FFFD instead of failing the frame, and a leading BOM is kept
 * as a character rather than silently dropped.
 */
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Strings up to this length are decoded by hand when ASCII: cheaper than a TextDecoder call. */
const SHORT = 24;

/** Decode `bytes[start, end)` as UTF-8. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = bytes[i] as number;
      if (b >= 0x80) return decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decoder.decode(bytes.subarray(start, end));
}

/**
 * Write `s` as UTF-8 into `buf` at `pos` (the caller reserved `3 * s.length` bytes) and return the new position.
 * A lone surrogate becomes U+FFFD, as TextEncoder does.
 */
export function encodeUtf8Into(s: string, buf: Uint8Array, pos: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
      continue;
    }
    if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        buf[pos++] = 0xf0 | (c >> 18);
        buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[pos++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    buf[pos++] = 0xe0 | (c >> 12);
    buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
    buf[pos++] = 0x80 | (c & 0x3f);
  }
  return pos;
}
