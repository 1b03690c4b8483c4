import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapConcurrent } from "./concurrency.js";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("mapConcurrent", () => {
  for (const limit of [1, 3, 100]) {
    it(`keeps item order and at most ${limit} in flight`, async () => {
      let inFlight = 0;
      let maxInFlight = 0;
      const items = [5, 1, 4, 2, 3, 1, 2];
      const results = await mapConcurrent(items, limit, async (turns, index) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        for (let i = 0; i < turns; i++) await turn();
        inFlight--;
        return `${index}:${turns}`;
      });
      assert.deepEqual(
        results,
        items.map((turns, index) => `${index}:${turns}`),
      );
      assert.equal(maxInFlight, Math.min(limit, items.length));
    });
  }

  it("handles no items", async () => {
    assert.deepEqual(await mapConcurrent([], 4, async () => 1), []);
  });
});
