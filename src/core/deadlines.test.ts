import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type DeadlineKind, Deadlines } from "./deadlines.js";
import { TimerWheel } from "./timer-wheel.js";

/** Wait until `fired` holds `count` kinds (or 5 s pass). */
async function told(fired: readonly DeadlineKind[], count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (fired.length < count && Date.now() < deadline) await sleep(5);
}

describe("Deadlines", () => {
  let wheel: TimerWheel;
  let fired: DeadlineKind[];
  let deadlines: Deadlines;

  beforeEach(() => {
    wheel = new TimerWheel(10);
    fired = [];
    deadlines = new Deadlines(wheel, { onDeadline: (kind) => fired.push(kind) });
  });
  afterEach(() => wheel.close());

  it("tells each deadline once, earliest first", async () => {
    deadlines.set("ping", 300);
    deadlines.set("stale", 20);
    await told(fired, 2);
    assert.deepEqual(fired, ["stale", "ping"]);
  });

  it("set replaces a deadline; atMost keeps an earlier one", async () => {
    deadlines.set("ping", 20);
    deadlines.set("ping", 400);
    deadlines.set("pong", 30);
    deadlines.atMost("pong", 2000);
    await told(fired, 2);
    assert.deepEqual(fired, ["pong", "ping"]);
  });

  it("a cleared deadline is not told, the others still are", async () => {
    deadlines.set("stale", 20);
    deadlines.set("expiry", 100);
    deadlines.clear("stale");
    await told(fired, 1);
    await sleep(50);
    assert.deepEqual(fired, ["expiry"]);
  });

  it("nothing is told after stop, and nothing can be set again", async () => {
    deadlines.set("ping", 20);
    deadlines.stop();
    deadlines.set("pong", 20);
    await sleep(80);
    assert.deepEqual(fired, []);
  });

  it("a deadline set while another is told gets its own turn", async () => {
    deadlines = new Deadlines(wheel, {
      onDeadline: (kind) => {
        fired.push(kind);
        if (fired.length < 3) deadlines.set(kind, 20);
      },
    });
    deadlines.set("presence", 20);
    await told(fired, 3);
    await sleep(50);
    assert.deepEqual(fired, ["presence", "presence", "presence"]);
  });

  it("still tells later deadlines after two fall due in one bucket and the first one sets itself again", async () => {
    deadlines = new Deadlines(wheel, {
      onDeadline: (kind) => {
        fired.push(kind);
        if (kind === "presence" && fired.length === 1) deadlines.set("presence", 5000);
      },
    });
    deadlines.set("presence", 20);
    deadlines.set("positions", 20);
    deadlines.set("expiry", 60);
    await told(fired, 3);
    assert.deepEqual(fired, ["presence", "positions", "expiry"]);
  });
});
