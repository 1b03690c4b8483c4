import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapConcurrent, YIELD_EVERY } from "./concurrency.js";

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

  for (const limit of [1, 1024]) {
    it(`lets the event loop turn while tasks that settle at once run, ${limit} in flight`, async () => {
      let started = 0;
      const startedAtTurn: number[] = [];
      const items = Array.from({ length: YIELD_EVERY * 3 }, (_, i) => i);
      setImmediate(() => startedAtTurn.push(started));
      await mapConcurrent(items, limit, async () => {
        started++;
      });
      assert.equal(startedAtTurn.length, 1);
      assert.ok((startedAtTurn[0] as number) < items.length, "no turn before every task had started");
    });
  }
});
