import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BatchingPort, type IpcWire } from "../../src/engine/ipc/batch.js";
import type { IpcMessage } from "../../src/engine/ipc/messages.js";

const control = (n: number): IpcMessage => ({
  turbine: "control",
  data: new TextEncoder().encode(String(n)),
});
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A port whose writes are recorded, as the channel would carry them. */
function recordedPort() {
  const written: IpcWire[] = [];
  const port = new BatchingPort((wire) => written.push(structuredClone(wire)));
  const batches = () => written.filter((wire) => wire.turbine === "batch");
  return { port, written, batches };
}

describe("IPC batching port", () => {
  it("sends what one turn queued as one batch, in order", async () => {
    const { port, batches } = recordedPort();
    for (let n = 0; n < 3; n++) port.send(control(n));
    assert.equal(batches().length, 0, "nothing is written before the turn ends");
    await nextTurn();
    assert.deepEqual(batches(), [{ turbine: "batch", messages: [0, 1, 2].map(control), ack: true }]);
  });

  it("holds what is sent while a batch is in flight and sends it all as one once acknowledged", async () => {
    const { port, batches } = recordedPort();
    port.send(control(0));
    await nextTurn();
    for (let n = 1; n < 5; n++) {
      port.send(control(n));
      await nextTurn();
    }
    assert.equal(batches().length, 1, "a second batch waits for the first one's acknowledgement");
    port.receive({ turbine: "ack" }, () => assert.fail("an acknowledgement carries no message"));
    await nextTurn();
    assert.deepEqual(batches()[1], { turbine: "batch", messages: [1, 2, 3, 4].map(control), ack: true });
  });

  it("hands over each message of a batch in order, then acknowledges it at the end of the turn", async () => {
    const { port, written } = recordedPort();
    const handled: IpcMessage[] = [];
    port.receive({ turbine: "batch", messages: [0, 1].map(control), ack: true }, (m) => handled.push(m));
    assert.deepEqual(handled, [0, 1].map(control));
    await nextTurn();
    assert.deepEqual(written, [{ turbine: "ack" }]);
    port.receive({ turbine: "batch", messages: [control(2)], ack: false }, (m) => handled.push(m));
    await nextTurn();
    assert.equal(written.length, 1, "a batch sent past the limit is not acknowledged");
  });

  it("acknowledges in the batch it sends in the same turn, which then counts as the acknowledgement", async () => {
    const { port, written } = recordedPort();
    port.receive({ turbine: "batch", messages: [control(0)], ack: true }, () => port.send(control(1)));
    await nextTurn();
    assert.deepEqual(written, [{ turbine: "batch", messages: [control(1)], ack: true, acks: true }]);
    // The peer's answer may itself carry the acknowledgement of that batch: the next one goes without waiting.
    port.receive({ turbine: "batch", messages: [control(2)], ack: true, acks: true }, () =>
      port.send(control(3)),
    );
    await nextTurn();
    assert.deepEqual(written[1], { turbine: "batch", messages: [control(3)], ack: true, acks: true });
  });

  it("acknowledges alone while its own batch waits for the peer", async () => {
    const { port, written } = recordedPort();
    port.send(control(0));
    await nextTurn();
    port.send(control(1));
    port.receive({ turbine: "batch", messages: [control(9)], ack: true }, () => undefined);
    await nextTurn();
    assert.deepEqual(
      written.slice(1),
      [{ turbine: "ack" }],
      "control 1 waits: control 0 is not acknowledged",
    );
  });

  it("stops waiting for a peer that does not acknowledge once 10,000 messages are queued", async () => {
    const { port, batches } = recordedPort();
    port.send(control(0));
    await nextTurn();
    for (let n = 1; n <= 10_000; n++) port.send(control(n));
    await nextTurn();
    assert.equal(batches().length, 2);
    const second = batches()[1];
    assert.equal(second?.turbine === "batch" && second.messages.length, 10_000);
    assert.equal(second?.turbine === "batch" && second.ack, false);
  });

  it("ignores what is not its own on the channel (the app's messages, garbage)", () => {
    const { port, written } = recordedPort();
    for (const message of [null, "ready", 7, { turbineMetrics: "collect", id: 1 }, { turbine: "call" }])
      port.receive(message, () => assert.fail(`handed over ${JSON.stringify(message)}`));
    assert.deepEqual(written, []);
  });

  it("holds everything for a peer that does not listen yet, then sends it as one batch", async () => {
    const written: IpcWire[] = [];
    const primary = new BatchingPort((wire) => written.push(wire), false);
    primary.send(control(0));
    primary.send(control(1));
    await nextTurn();
    assert.deepEqual(written, [], "a worker that does not listen yet would lose what is sent");
    const worker = new BatchingPort((wire) => primary.receive(wire, () => undefined));
    worker.listening();
    await nextTurn();
    assert.deepEqual(written, [{ turbine: "batch", messages: [0, 1].map(control), ack: true }]);
  });
});
