/**
 * Which of several Redis shards a channel lives on, chosen exactly as Centrifugo chooses it (centrifuge's
 * `consistentIndex`): the 64-bit FNV-1a hash of the channel's UTF-8 bytes fed to Jump Consistent Hash (Lamping
 * & Veach, 2014). Turbine and Centrifugo nodes given the same address list therefore agree on where a
 * channel's history and presence are, and adding a shard moves only about 1/(n+1) of the channels.
 */

const MASK_64 = (1n << 64n) - 1n;
const FNV_OFFSET_BASIS = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const JUMP_MULTIPLIER = 2862933555777941757n;
const TWO_TO_31 = 2 ** 31;

const utf8 = new TextEncoder();

/** FNV-1a, 64 bits, of the string's UTF-8 bytes. */
export function fnv1a64(text: string): bigint {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(text)) {
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  }
  return hash;
}

/**
 * The bucket in [0, numBuckets) of `channel`. With one bucket (no sharding) this is always 0 and hashes
 * nothing. `numBuckets` must be ≥ 1.
 */
export function consistentIndex(channel: string, numBuckets: number): number {
  if (numBuckets <= 1) return 0;
  let key = fnv1a64(channel);
  let bucket = -1;
  let next = 0;
  while (next < numBuckets) {
    bucket = next;
    key = (key * JUMP_MULTIPLIER + 1n) & MASK_64;
    // The same float64 arithmetic as the reference implementation, so every bucket matches it bit for bit.
    next = Math.trunc((bucket + 1) * (TWO_TO_31 / (Number(key >> 33n) + 1)));
  }
  return bucket;
}
