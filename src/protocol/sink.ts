/**
 * A growable output buffer reused from one encode to the next, so encoding allocates only the final copy.
 * Encoders run synchronously, so one sink per codec is enough.
 */
const SLAB_SIZE = 16 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

export class ByteSink {
  buf: Uint8Array;
  pos = 0;

  /** A buffer that grew beyond this is dropped after use, so one huge reply does not pin memory. */
  private static readonly KEEP_MAX = 1 << 20;

  constructor(private readonly initialSize = 4096) {
    this.buf = new Uint8Array(initialSize);
  }

  /** Make room for `n` more bytes after `pos`. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Write a string known to be ASCII (numbers, pre-escaped keys). */
  ascii(s: string): void {
    this.reserve(s.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /**
   * Copy out what was written and start over. Small results are carved from a shared slab (as Node does for
   * small Buffers): allocating a typed array per reply costs more than encoding it. A retained small result
   * keeps its slab (16 KiB) alive.
   */
  take(): Uint8Array {
    const n = this.pos;
    let out: Uint8Array;
    if (n > SLAB_SIZE / 8) {
      out = new Uint8Array(n);
    } else {
      if (slabUsed + n > SLAB_SIZE) {
        slab = new ArrayBuffer(SLAB_SIZE);
        slabUsed = 0;
      }
      out = new Uint8Array(slab, slabUsed, n);
      slabUsed += (n + 7) & ~7;
    }
    out.set(this.buf.subarray(0, n));
    this.reset();
    return out;
  }

  /** Drop what was written, e.g. after an encoder threw halfway. */
  reset(): void {
    this.pos = 0;
    if (this.buf.length > ByteSink.KEEP_MAX) this.buf = new Uint8Array(this.initialSize);
  }

  private grow(needed: number): void {
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
}
