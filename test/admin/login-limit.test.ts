/** Login attempts per address: a token bucket per address, without timers, in a bounded table. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LoginLimit } from "../../src/admin/login-limit.js";

function limit(maxAddresses = 100) {
  const clock = { now: 0 };
  const login = new LoginLimit({ burst: 3, refillMs: 10_000, maxAddresses, now: () => clock.now });
  return { login, clock };
}

describe("LoginLimit", () => {
  it("allows a burst, then says how long to wait", () => {
    const { login } = limit();
    assert.deepEqual(
      [1, 2, 3].map(() => login.take("a")),
      [0, 0, 0],
    );
    assert.equal(login.take("a"), 10);
  });

  it("keeps addresses apart", () => {
    const { login } = limit();
    for (let i = 0; i < 3; i++) login.take("a");
    assert.equal(login.take("b"), 0);
  });

  it("gives one attempt back per refill period, up to the burst", () => {
    const { login, clock } = limit();
    for (let i = 0; i < 3; i++) login.take("a");
    clock.now = 4_000;
    assert.equal(login.take("a"), 6);
    clock.now = 10_000;
    assert.equal(login.take("a"), 0);
    assert.equal(login.take("a"), 10);
    clock.now = 1_000_000;
    assert.deepEqual(
      [1, 2, 3, 4].map(() => login.take("a")),
      [0, 0, 0, 10],
    );
  });

  it("stays bounded: a full table forgets refilled addresses, else its oldest", () => {
    const { login, clock } = limit(10);
    for (let i = 0; i < 10; i++) for (let j = 0; j < 3; j++) login.take(`spent-${i}`);
    // The table is full of spent buckets: the oldest tenth goes, the newest keep their state.
    assert.equal(login.take("new"), 0);
    assert.equal(login.take("spent-0"), 0, "the oldest was forgotten");
    assert.equal(login.take("spent-9"), 10, "a recent one was kept");
    clock.now = 60_000;
    // Now every bucket has refilled: they all go to make room.
    assert.equal(login.take("newer"), 0);
  });
});
