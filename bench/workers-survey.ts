/**
 * `npm run bench:workers-survey`: what one `info` call's survey of the workers costs at many clients, in what
 * crosses from each worker to the primary: serializing it in the worker (node's "advanced" serialization is V8's
 * serializer), reading it back in the primary, and merging. Each worker holds `--clients` clients of distinct
 * users, each subscribed to a channel of its own. Compared: every worker sending its users and its channels with
 * their counts as arrays (before), and its counts plus its users as one JSON text, the channels `info` counts
 * being the primary's own (now; `channels` asks for the channels instead of the users, also as JSON text).
 *
 * Run: `npm run bench:workers-survey -- --clients 100000 --workers 2`
 */
import { parseArgs } from "node:util";
import { deserialize, serialize } from "node:v8";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "100000" },
    workers: { type: "string", default: "2" },
    runs: { type: "string", default: "10" },
  },
});
const clients = Number(values.clients);
const workers = Number(values.workers);

/** One worker's users and channels: distinct per worker, as connections spread over workers. */
function worker(w: number) {
  const users = Array.from({ length: clients }, (_, i) => `user-${w}-${i}`);
  const channels = new Map(users.map((user) => [`personal:${user}`, 1]));
  return { users, channels };
}
const all = Array.from({ length: workers }, (_, w) => worker(w));

/** Milliseconds of CPU for `f`, the median of `--runs`, and the bytes it shipped. */
function measure(f: () => number): { ms: number; bytes: number } {
  const times: number[] = [];
  let bytes = 0;
  for (let run = 0; run < Number(values.runs); run++) {
    const started = process.cpuUsage();
    bytes = f();
    const { user, system } = process.cpuUsage(started);
    times.push((user + system) / 1000);
  }
  return { ms: times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!, bytes };
}

const before = measure(() => {
  let bytes = 0;
  const users = new Set<string>();
  const channels = new Map<string, number>();
  for (const w of all) {
    const wire = serialize({ numClients: clients, users: w.users, channels: [...w.channels] });
    bytes += wire.length;
    const figures = deserialize(wire) as { users: string[]; channels: [string, number][] };
    for (const user of figures.users) users.add(user);
    for (const [channel, count] of figures.channels)
      channels.set(channel, (channels.get(channel) ?? 0) + count);
  }
  return bytes;
});
const now = measure(() => {
  let bytes = 0;
  const users = new Set<string>();
  for (const w of all) {
    const wire = serialize({ numClients: clients, numSubs: w.channels.size, users: JSON.stringify(w.users) });
    bytes += wire.length;
    const figures = deserialize(wire) as { users: string };
    for (const user of JSON.parse(figures.users) as string[]) users.add(user);
  }
  return bytes;
});

console.log(`\nnpm run bench:workers-survey -- ${process.argv.slice(2).join(" ")}`);
console.log(
  `${workers} workers of ${clients} clients each; one info survey, medians of ${values.runs} runs\n`,
);
console.log("| shape | bytes from the workers | CPU ms (serialize, read, merge) |");
console.log("|---|---|---|");
console.log(`| users and channels as arrays (before) | ${before.bytes} | ${before.ms.toFixed(1)} |`);
console.log(`| counts, users as JSON text (now) | ${now.bytes} | ${now.ms.toFixed(1)} |`);
