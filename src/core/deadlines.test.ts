import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type DeadlineKind, Deadlines } from "./deadlines.js";
import { TimerWheel } from "./timer-wheel.js";

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
    deadlines.set("ping", 60);
    deadlines.set("stale", 20);
    await sleep(150);
    assert.deepEqual(fired, ["stale", "ping"]);
  });

  it("set replaces a deadline; atMost keeps an earlier one", async () => {
    deadlines.set("ping", 20);
    deadlines.set("ping", 100);
    deadlines.set("pong", 30);
    deadlines.atMost("pong", 200);
    await sleep(70);
    assert.deepEqual(fired, ["pong"]);
    await sleep(100);
    assert.deepEqual(fired, ["pong", "ping"]);
  });

  it("a cleared deadline is not told, the others still are", async () => {
    deadlines.set("stale", 20);
    deadlines.set("expiry", 50);
    deadlines.clear("stale");
    await sleep(120);
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
    await sleep(200);
    assert.deepEqual(fired, ["presence", "presence", "presence"]);
  });
});
