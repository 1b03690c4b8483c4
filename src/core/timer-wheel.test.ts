import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { TimerWheel, WheelTask } from "./timer-wheel.js";

/** A wheel on a hand-moved clock: its interval still fires every 10 ms, but time moves only when a test says. */
class ManualClock {
  now = 1_000_000;
  readonly wheel = new TimerWheel(10, () => this.now);

  /**
   * Move the clock by `ms` (at least the resolution) and wait until the wheel has run every bucket due by
   * then: a probe scheduled now lands in the last due bucket, after the tasks already in it.
   */
  async advance(ms: number): Promise<void> {
    this.now += ms;
    const probe = new Promise<void>((resolve) => this.wheel.schedule(0, resolve));
    // The wheel's interval is unref'd: this timer keeps the process alive while the probe is pending.
    const stop = new AbortController();
    const timeout = sleep(5000, "timeout", { signal: stop.signal }).catch(() => "stopped");
    const outcome = await Promise.race([probe, timeout]);
    stop.abort();
    assert.notEqual(outcome, "timeout", `the wheel did not reach time ${this.now} within 5 s`);
  }
}

describe("TimerWheel", () => {
  let clock: ManualClock;
  let ran: string[];
  const task = (name: string) => () => ran.push(name);

  beforeEach(() => {
    clock = new ManualClock();
    ran = [];
  });
  afterEach(() => clock.wheel.close());

  it("runs a task no earlier than its delay, however many ticks pass", async () => {
    clock.wheel.schedule(100, task("a"));
    await clock.advance(90);
    assert.deepEqual(ran, []);
    await clock.advance(10);
    assert.deepEqual(ran, ["a"]);
  });

  it("runs due tasks in order of their buckets when the clock jumps", async () => {
    clock.wheel.schedule(300, task("late"));
    clock.wheel.schedule(20, task("early"));
    await clock.advance(1000);
    assert.deepEqual(ran, ["early", "late"]);
  });

  it("runs each task once", async () => {
    clock.wheel.schedule(10, task("a"));
    await clock.advance(10);
    await clock.advance(1000);
    assert.deepEqual(ran, ["a"]);
  });

  it("never runs a cancelled task; cancelling after it ran is harmless", async () => {
    const cancelled = clock.wheel.schedule(10, task("cancelled"));
    const done = clock.wheel.schedule(10, task("done"));
    cancelled.cancel();
    await clock.advance(20);
    done.cancel();
    assert.deepEqual(ran, ["done"]);
  });

  it("puts a task scheduled by a running task in a later bucket, even with no delay", async () => {
    clock.wheel.schedule(10, () => {
      ran.push("first");
      clock.wheel.schedule(0, task("second"));
    });
    await clock.advance(10);
    assert.deepEqual(ran, ["first"]);
    await clock.advance(10);
    assert.deepEqual(ran, ["first", "second"]);
  });

  it("runs nothing after close", async () => {
    clock.wheel.schedule(10, task("a"));
    clock.wheel.close();
    clock.now += 100;
    await sleep(50);
    assert.deepEqual(ran, []);
  });

  it("runs a task object in its bucket; scheduling it again moves it, unscheduling drops it", async () => {
    const recording = (name: string) =>
      new (class extends WheelTask {
        onTimer(): void {
          ran.push(name);
        }
      })();
    const moved = recording("moved");
    const dropped = recording("dropped");
    const wheel = clock.wheel;
    wheel.scheduleIn(moved, wheel.bucketAfter(10));
    wheel.scheduleIn(moved, wheel.bucketAfter(50));
    wheel.scheduleIn(dropped, wheel.bucketAfter(10));
    wheel.unschedule(dropped);
    await clock.advance(20);
    assert.deepEqual(ran, []);
    await clock.advance(30);
    assert.deepEqual(ran, ["moved"]);
    assert.equal(moved.wheelBucket, 0, "a task that ran is no longer scheduled");
  });

  it("skips a task that an earlier task of the same bucket unscheduled or moved", async () => {
    const wheel = clock.wheel;
    const later = new (class extends WheelTask {
      onTimer(): void {
        ran.push("later");
      }
    })();
    wheel.schedule(10, () => {
      ran.push("first");
      wheel.scheduleIn(later, wheel.bucketAfter(100));
    });
    wheel.scheduleIn(later, wheel.bucketAfter(10));
    await clock.advance(10);
    assert.deepEqual(ran, ["first"]);
    await clock.advance(100);
    assert.deepEqual(ran, ["first", "later"]);
  });
});
