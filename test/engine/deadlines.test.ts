import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeadlineQueue } from "../../src/engine/memory/deadlines.js";

describe("DeadlineQueue", () => {
  it("returns due keys and keeps the others", () => {
    const queue = new DeadlineQueue<string>();
    queue.schedule("a", 30);
    queue.schedule("b", 10);
    queue.schedule("c", 20);
    assert.deepEqual(queue.takeDue(20), ["b", "c"]);
    assert.deepEqual(queue.takeDue(29), []);
    assert.deepEqual(queue.takeDue(30), ["a"]);
    assert.equal(queue.size, 0);
    assert.equal(queue.pending, 0);
  });

  it("follows rescheduling both ways and cancellation", () => {
    const queue = new DeadlineQueue<string>();
    queue.schedule("later", 10);
    queue.schedule("later", 50);
    queue.schedule("sooner", 50);
    queue.schedule("sooner", 5);
    queue.schedule("cancelled", 1);
    queue.cancel("cancelled");
    assert.deepEqual(queue.takeDue(10), ["sooner"]);
    assert.deepEqual(queue.takeDue(49), []);
    assert.deepEqual(queue.takeDue(50), ["later"]);
    assert.equal(queue.pending, 0);
  });

  it("agrees with a plain map under random operations and stays compact", () => {
    const queue = new DeadlineQueue<number>();
    const model = new Map<number, number>();
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let now = 0; now < 2000; now++) {
      for (let op = 0; op < 5; op++) {
        const key = random(200);
        if (random(4) === 0) {
          queue.cancel(key);
          model.delete(key);
        } else {
          const at = now + 1 + random(100);
          queue.schedule(key, at);
          model.set(key, at);
        }
      }
      const expected = [...model].filter(([, at]) => at <= now).map(([key]) => key);
      for (const key of expected) model.delete(key);
      assert.deepEqual(queue.takeDue(now).sort(), expected.sort());
      assert.ok(queue.pending <= 2 * queue.size + 64);
    }
  });
});
