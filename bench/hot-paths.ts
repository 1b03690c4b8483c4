/**
 * Micro-benchmarks of the per-publication hot paths: encoding one publication push (done once per channel
 * and protocol, whatever the number of subscribers), a memory-engine publish, and a 100-publication history
 * read. Run: `npm run bench:hot`. Prints the median of 5 rounds per case, in nanoseconds per operation.
 */
import { create } from "@bufbuild/protobuf";
import { MemoryBroker } from "../src/engine/memory/broker.js";
import { codecFor } from "../src/protocol/codec.js";
import { PushSchema, ReplySchema } from "../src/protocol/index.js";

const data = new TextEncoder().encode(JSON.stringify({ text: "x".repeat(100), n: 12345, ok: true }));
const push = create(PushSchema, {
  channel: "chat:index",
  pub: { data, offset: 42, info: { user: "42", client: "b8a6a1d2-5d1c-4b43-8a8e-1c9d0d0e7f11" } },
});
const reply = create(ReplySchema, { push });
const options = { historySize: 100, historyTtlMs: 300_000, historyMetaTtlMs: 0 };

async function main(): Promise<void> {
  const broker = new MemoryBroker();
  await broker.registerEventHandler({ onPublication() {}, onJoin() {}, onLeave() {} });
  for (let i = 0; i < 100; i++) await broker.publish("history", data, options);
  const cases: [string, number, () => unknown][] = [
    ["encode push (json)", 200_000, () => codecFor("json").encodeReply(reply)],
    ["encode push (protobuf)", 200_000, () => codecFor("protobuf").encodeReply(reply)],
    ["memory publish with history", 100_000, () => broker.publish("publish", data, options)],
    [
      "memory history read, 100 publications",
      20_000,
      () => broker.history("history", { filter: { limit: -1 }, metaTtlMs: 0 }),
    ],
  ];
  for (const [name, iterations, run] of cases) {
    const rounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) {
        const result = run();
        if (result instanceof Promise) await result;
      }
      rounds.push(Number(process.hrtime.bigint() - started) / iterations);
    }
    rounds.sort((a, b) => a - b);
    console.log(`${name.padEnd(40)} ${Math.round(rounds[2] ?? 0)} ns/op`);
  }
  await broker.close();
}

await main();
