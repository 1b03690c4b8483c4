/**
 * `ClientWriter` and `FlushScheduler` in the style of `ws`'s sender tests: a recording transport, one
 * `describe` per method; the scheduler's end-of-turn flush is awaited with `setImmediate`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { codecFor } from "../protocol/codec.js";
import type { Disconnect } from "../protocol/codes.js";
import type { Transport } from "./transport.js";
import { ClientWriter, FlushScheduler } from "./writer.js";

const json = codecFor("json");
const text = new TextDecoder();
const unit = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A transport that records every frame (or batch handed to `writeMany`) and reports a settable backlog. */
class RecordingTransport implements Transport {
  readonly name = "websocket";
  readonly protocol = "json";
  readonly appLevelPing = false;
  bufferedAmount = 0;
  readonly frames: string[] = [];
  readonly batches: string[][] = [];

  constructor(withWriteMany = false) {
    if (withWriteMany) {
      this.writeMany = (units) => {
        this.batches.push(units.map((u) => text.decode(u)));
      };
    }
  }

  writeMany?: (units: readonly Uint8Array[]) => void;

  write(frame: Uint8Array): void {
    this.frames.push(text.decode(frame));
  }

  close(_disconnect: Disconnect): void {}
}

/** End of the current event-loop turn, when a zero-delay scheduler flushes. */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function writer(transport: Transport, maxQueueBytes = 0, onOverflow = (): void => {}): ClientWriter {
  return new ClientWriter(transport, json, new FlushScheduler(0), maxQueueBytes, {
    onWriterOverflow: onOverflow,
  });
}

describe("ClientWriter#enqueue", () => {
  it("writes nothing until the end of the turn, then one unit as it is", async () => {
    const transport = new RecordingTransport();
    writer(transport).enqueue(unit('{"id":1}'));
    assert.deepEqual(transport.frames, []);
    await endOfTurn();
    assert.deepEqual(transport.frames, ['{"id":1}']);
  });

  it("joins the units queued in one turn into one frame (JSON: newline-separated)", async () => {
    const transport = new RecordingTransport();
    const w = writer(transport);
    w.enqueue(unit('{"id":1}'));
    w.enqueue(unit('{"id":2}'));
    w.enqueue(unit('{"id":3}'));
    await endOfTurn();
    assert.deepEqual(transport.frames, ['{"id":1}\n{"id":2}\n{"id":3}']);
  });

  it("hands the units to `writeMany` when the transport frames each itself", async () => {
    const transport = new RecordingTransport(true);
    const w = writer(transport);
    w.enqueue(unit("a"));
    w.enqueue(unit("b"));
    await endOfTurn();
    assert.deepEqual(transport.batches, [["a", "b"]]);
    assert.deepEqual(transport.frames, []);
  });

  it("tells the owner once and drops everything after, when the queue and backlog exceed the bound", async () => {
    const transport = new RecordingTransport();
    let overflows = 0;
    const w = writer(transport, 10, () => overflows++);
    w.enqueue(unit("12345"));
    transport.bufferedAmount = 6;
    w.enqueue(unit("6"));
    assert.equal(
      overflows,
      0,
      "the backlog seen at the last write (0) is what counts until the overflow check",
    );
    w.enqueue(unit("7890!"));
    assert.equal(overflows, 1);
    w.enqueue(unit("more"));
    await endOfTurn();
    assert.equal(overflows, 1);
    assert.deepEqual(transport.frames, []);
  });

  it("confirms an apparent overflow with the transport's current backlog, which may have drained", async () => {
    const transport = new RecordingTransport();
    let overflows = 0;
    const w = writer(transport, 10, () => overflows++);
    transport.bufferedAmount = 8;
    w.enqueue(unit("1"));
    await endOfTurn();
    // Written with a backlog of 8: the next 5 bytes look like 13, but the socket drained meanwhile.
    transport.bufferedAmount = 0;
    w.enqueue(unit("23456"));
    await endOfTurn();
    assert.equal(overflows, 0);
    assert.deepEqual(transport.frames, ["1", "23456"]);
  });
});

describe("ClientWriter#flush", () => {
  it("cuts a batch over 64 KiB into frames of at most 64 KiB, in order; a larger unit goes alone", () => {
    const transport = new RecordingTransport();
    const w = writer(transport);
    const kib = (n: number, c: string): Uint8Array => unit(c.repeat(n * 1024));
    w.enqueue(kib(40, "a"));
    w.enqueue(kib(20, "b"));
    w.enqueue(kib(30, "c"));
    w.enqueue(kib(70, "d"));
    w.enqueue(kib(1, "e"));
    w.flush();
    assert.deepEqual(
      transport.frames.map((frame) => frame.split("\n").map((u) => `${u[0]}${u.length / 1024}`)),
      [["a40", "b20"], ["c30"], ["d70"], ["e1"]],
    );
    assert.ok(transport.frames.every((frame, i) => i === 2 || frame.length <= 64 * 1024));
  });

  it("writes nothing when the queue is empty, and nothing after close", () => {
    const transport = new RecordingTransport();
    const w = writer(transport);
    w.flush();
    w.enqueue(unit("x"));
    w.close();
    w.flush();
    w.enqueue(unit("y"));
    w.flush();
    assert.deepEqual(transport.frames, []);
  });
});

describe("FlushScheduler#add", () => {
  it("flushes every writer of a turn in one callback; what is queued during the flush waits for the next turn", async () => {
    const scheduler = new FlushScheduler(0);
    const first = new RecordingTransport();
    const second = new RecordingTransport();
    const ignoreOverflow = { onWriterOverflow: () => {} };
    const a = new ClientWriter(first, json, scheduler, 0, ignoreOverflow);
    const b = new ClientWriter(second, json, scheduler, 0, ignoreOverflow);
    a.enqueue(unit("a1"));
    b.enqueue(unit("b1"));
    a.enqueue(unit("a2"));
    const write = second.write.bind(second);
    second.write = (frame) => {
      write(frame);
      a.enqueue(unit("a3"));
    };
    await endOfTurn();
    assert.deepEqual(first.frames, ["a1\na2"]);
    assert.deepEqual(second.frames, ["b1"]);
    await endOfTurn();
    assert.deepEqual(first.frames, ["a1\na2", "a3"]);
  });
});
