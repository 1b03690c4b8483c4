/**
 * `FrameBudget` with a hand-set clock and hand-run turns, then through real sessions: frames deferred once a
 * turn's budget is spent, the order per connection kept across the deferral, and the FIFO bounded by one
 * entry per connection.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { channelConfig, clientConfig, rpcConfig } from "../../test/helpers/core.js";
import type { Broker, PresenceManager } from "../engine/types.js";
import { type Disconnect, DisconnectBadRequest } from "../protocol/codes.js";
import type { Client } from "./client.js";
import { FrameBudget } from "./frame-budget.js";
import { Node } from "./node.js";
import type { Transport } from "./transport.js";

/** A budget whose clock and turns the test drives. */
function manualBudget(budgetMs = 20): {
  budget: FrameBudget;
  tick: (ms: number) => void;
  runTurn: () => void;
} {
  let now = 0;
  let turns: (() => void)[] = [];
  const budget = new FrameBudget(
    budgetMs,
    () => now,
    (run) => turns.push(run),
  );
  return {
    budget,
    tick: (ms) => (now += ms),
    runTurn: () => {
      const due = turns;
      turns = [];
      for (const run of due) run();
    },
  };
}

/** Lets promise callbacks run (a released frame continues in a microtask). */
const microtasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("FrameBudget.admit", () => {
  it("lets frames through at once while the turn is within its budget", () => {
    const { budget, tick } = manualBudget();
    for (let i = 0; i < 5; i++) {
      assert.equal(budget.admit(), undefined);
      tick(3);
      budget.finished();
    }
    assert.equal(budget.queued, 0);
  });

  it("defers a frame once the turn has spent its budget, and starts it in the next turn", async () => {
    const { budget, tick, runTurn } = manualBudget();
    assert.equal(budget.admit(), undefined);
    tick(25);
    budget.finished();
    const deferred = budget.admit();
    assert.ok(deferred, "a frame after 25 ms of a 20 ms budget waits");
    let started = false;
    void deferred.then(() => (started = true));
    await microtasks();
    assert.equal(started, false, "not within the spent turn");
    runTurn();
    await microtasks();
    assert.equal(started, true, "the next turn starts it");
    assert.equal(budget.queued, 0);
  });

  it("queues behind waiting frames even when the new turn has budget left", async () => {
    const { budget, tick, runTurn } = manualBudget();
    budget.admit();
    tick(25);
    const order: string[] = [];
    void budget.admit()?.then(() => order.push("first"));
    void budget.admit()?.then(() => order.push("second"));
    runTurn();
    const third = budget.admit();
    assert.ok(third, "a frame arriving while others wait queues behind them");
    void third.then(() => order.push("third"));
    await microtasks();
    assert.deepEqual(order, ["first"]);
    budget.finished();
    budget.finished();
    await microtasks();
    assert.deepEqual(order, ["first", "second", "third"]);
  });
});

describe("FrameBudget.finished", () => {
  it("starts waiting frames one by one within a turn's budget, the rest in later turns", async () => {
    const { budget, tick, runTurn } = manualBudget();
    budget.admit();
    tick(25);
    const started: number[] = [];
    for (let i = 0; i < 4; i++) void budget.admit()?.then(() => started.push(i));
    assert.equal(budget.queued, 4);
    runTurn();
    await microtasks();
    assert.deepEqual(started, [0]);
    tick(10);
    budget.finished();
    await microtasks();
    assert.deepEqual(started, [0, 1], "10 ms into a 20 ms budget: the next starts");
    tick(15);
    budget.finished();
    await microtasks();
    assert.deepEqual(started, [0, 1], "25 ms in: the rest wait");
    runTurn();
    await microtasks();
    budget.finished();
    await microtasks();
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.equal(budget.queued, 0);
  });
});

/** A JSON transport that records the ids of the replies it writes. */
class RecordingTransport implements Transport {
  readonly name = "websocket";
  readonly protocol = "json";
  readonly appLevelPing = false;
  readonly bufferedAmount = 0;
  readonly replyIds: number[] = [];

  write(frame: Uint8Array): void {
    for (const line of text.decode(frame).split("\n")) {
      const reply = JSON.parse(line) as { id?: number };
      if (reply.id !== undefined) this.replyIds.push(reply.id);
    }
  }

  close(_disconnect: Disconnect): void {}
}

const text = new TextDecoder();
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const rpc = (id: number): Uint8Array => bytes(`{"id":${id},"rpc":{"method":"m"}}`);

/** The engine is never reached here; closing it at shutdown is all a node asks. */
const unusedEngine = { close: async () => {} } as unknown as Broker & PresenceManager;

describe("FrameBudget in the sessions' command chain", () => {
  let node: Node;
  let manual: ReturnType<typeof manualBudget>;

  beforeEach(() => {
    manual = manualBudget();
    node = new Node({
      name: "test-node",
      version: "0.0.0",
      client: clientConfig({ user_id_http_header: "x-user" }),
      channel: channelConfig(),
      rpc: rpcConfig(),
      broker: unusedEngine,
      presenceManager: unusedEngine,
      logger: pino({ level: "silent" }),
      frameBudget: manual.budget,
    });
  });

  afterEach(() => node.shutdown(100));

  async function connected(user: string): Promise<{ client: Client; transport: RecordingTransport }> {
    const transport = new RecordingTransport();
    const client = node.createClient(transport, { headers: { "x-user": user } });
    client.handleFrame(bytes('{"id":1,"connect":{}}'));
    await client.whenIdle();
    await microtasks();
    assert.deepEqual(transport.replyIds, [1], `${user}'s connect reply`);
    return { client, transport };
  }

  /** Run turns until every session is idle (bounded: each turn starts at least one waiting frame). */
  async function runTurnsUntilIdle(clients: Client[]): Promise<void> {
    for (let turn = 0; manual.budget.queued > 0; turn++) {
      if (turn > 100) throw new Error("waiting frames did not drain within 100 turns");
      manual.runTurn();
      await microtasks();
    }
    await Promise.all(clients.map((c) => c.whenIdle()));
    await microtasks();
  }

  it("defers frames past the budget, keeps each connection's order, and holds one entry per connection", async () => {
    const alice = await connected("alice");
    const bob = await connected("bob");
    manual.tick(25);
    alice.client.handleFrame(rpc(2));
    bob.client.handleFrame(rpc(2));
    alice.client.handleFrame(rpc(3));
    alice.client.handleFrame(rpc(4));
    bob.client.handleFrame(rpc(3));
    await microtasks();
    assert.deepEqual(alice.transport.replyIds, [1], "alice's frames wait for a later turn");
    assert.deepEqual(bob.transport.replyIds, [1], "bob's frames wait for a later turn");
    assert.equal(
      manual.budget.queued,
      2,
      "one waiting entry per connection, the rest behind it in its chain",
    );
    await runTurnsUntilIdle([alice.client, bob.client]);
    assert.deepEqual(alice.transport.replyIds, [1, 2, 3, 4]);
    assert.deepEqual(bob.transport.replyIds, [1, 2, 3]);
  });

  it("a session closed while its frame waits starts nothing when the frame's turn comes", async () => {
    const alice = await connected("alice");
    manual.tick(25);
    alice.client.handleFrame(rpc(2));
    await microtasks();
    alice.client.close(DisconnectBadRequest);
    await runTurnsUntilIdle([alice.client]);
    assert.deepEqual(alice.transport.replyIds, [1]);
  });
});
