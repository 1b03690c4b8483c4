import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { consistentIndex, fnv1a64 } from "../../src/engine/redis/shard-index.js";

describe("consistentIndex", () => {
  it("hashes with 64-bit FNV-1a", () => {
    assert.equal(fnv1a64(""), 0xcbf29ce484222325n);
    assert.equal(fnv1a64("a"), 0xaf63dc4c8601ec8cn);
  });

  it("picks the same shard as Centrifugo", () => {
    // Buckets for 2, 3, 5 and 16 shards, computed with Go's hash/fnv and the reference jump hash.
    const expected: [string, number[]][] = [
      ["", [1, 1, 1, 13]],
      ["chat:index", [0, 0, 0, 0]],
      ["news", [1, 2, 3, 3]],
      ["a", [1, 2, 2, 12]],
      ["personal:#42", [1, 1, 3, 3]],
      ["привет", [1, 1, 3, 3]],
      ["x/y/z", [0, 2, 2, 13]],
    ];
    for (const [channel, buckets] of expected) {
      assert.deepEqual(
        [2, 3, 5, 16].map((n) => consistentIndex(channel, n)),
        buckets,
        channel,
      );
    }
  });

  it("spreads channels evenly and always answers 0 for one shard", () => {
    const counts = [0, 0];
    for (let i = 0; i < 1000; i++) {
      counts[consistentIndex(`ch${i}`, 2)]! += 1;
      assert.equal(consistentIndex(`ch${i}`, 1), 0);
    }
    assert.deepEqual(counts, [502, 498]);
  });
});
