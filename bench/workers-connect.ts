/**
 * `npm run bench:workers-connect`: what one user connection limit over all workers costs a connect. Turbine with
 * 2 workers and the memory engine takes a storm of `--clients` WebSocket connects (JSON protocol by hand, every
 * client a user of its own, all opened at once), once without `client.user_connection_limit` (no call to the
 * primary) and once with it (each connect asks the primary for a place, each close gives it back). Reported
 * per setting, medians of `--runs`: time from the first open until every client is connected, and the server's
 * CPU over the storm (primary and workers, and the primary alone) per connect, then the ratio of the two.
 *
 * Run: `npm run bench:workers-connect -- --clients 2000 --runs 3`
 */
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { cpuSeconds } from "./suite/proc.js";
import { launch, type RunningServer, turbineApiKey, turbineSecret } from "./suite/servers.js";

const MAX_CLIENTS = 20_000;
const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "2000" },
    runs: { type: "string", default: "3" },
    limit: { type: "string", default: "10" },
  },
});
const clients = Number(values.clients);
const runs = Number(values.runs);
const limit = Number(values.limit);
if (!Number.isInteger(clients) || clients < 1 || clients > MAX_CLIENTS)
  throw new Error(`--clients must be an integer from 1 to ${MAX_CLIENTS}`);
if (!Number.isInteger(runs) || runs < 1 || runs > 20)
  throw new Error("--runs must be an integer from 1 to 20");
if (!Number.isInteger(limit) || limit < 1) throw new Error("--limit must be a positive integer");

interface Storm {
  seconds: number;
  serverCpu: number;
  primaryCpu: number;
  /** The server's CPU from closing every client until `info` counts none. */
  closeCpu: number;
}

const key = new TextEncoder().encode(turbineSecret);
const tokens = await Promise.all(
  Array.from({ length: clients }, (_, i) =>
    new SignJWT({ sub: `user-${i}` }).setProtectedHeader({ alg: "HS256" }).sign(key),
  ),
);

/** One client: open, connect, resolve at the connect reply (reject on anything else). */
function connectOne(port: number, token: string, sockets: WebSocket[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/connection/websocket`, { perMessageDeflate: false });
    sockets.push(socket);
    socket.on("open", () => socket.send(`{"id":1,"connect":{"token":"${token}"}}`));
    socket.on("message", (frame: Buffer) => {
      const reply = JSON.parse(frame.toString().split("\n")[0]!) as { id?: number; connect?: unknown };
      if (reply.id === 1 && reply.connect !== undefined) resolve();
      else reject(new Error(`connect refused: ${frame.toString()}`));
    });
    socket.on("close", (code) => reject(new Error(`closed with ${code} before connecting`)));
    socket.on("error", reject);
  });
}

async function numClients(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/info`, {
    method: "POST",
    headers: { "X-API-Key": turbineApiKey },
    body: "{}",
  });
  const { result } = (await res.json()) as { result: { nodes: { num_clients?: number }[] } };
  return result.nodes.reduce((sum, node) => sum + (node.num_clients ?? 0), 0);
}

async function storm(userConnectionLimit: number): Promise<Storm> {
  const server: RunningServer = await launch("turbine", {
    turbineConfig: { workers: "2" },
    turbineClient: { user_connection_limit: userConnectionLimit },
  });
  const sockets: WebSocket[] = [];
  try {
    const cpu = () => server.pids.map((pid) => cpuSeconds(pid));
    const before = cpu();
    const started = performance.now();
    await Promise.all(tokens.map((token) => connectOne(server.port, token, sockets)));
    const seconds = (performance.now() - started) / 1000;
    const after = cpu();
    const used = after.map((seconds, i) => seconds - before[i]!);
    for (const socket of sockets) socket.terminate();
    const deadline = Date.now() + 60_000;
    while ((await numClients(server.port)) > 0) {
      if (Date.now() > deadline) throw new Error("clients still counted 60 s after closing");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const closed = cpu().reduce((a, b) => a + b, 0) - after.reduce((a, b) => a + b, 0);
    return { seconds, serverCpu: used.reduce((a, b) => a + b, 0), primaryCpu: used[0]!, closeCpu: closed };
  } finally {
    for (const socket of sockets) socket.terminate();
    await server.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const settings = [
  { label: "no user_connection_limit", limit: 0 },
  { label: `user_connection_limit ${limit}`, limit },
];
const results = new Map<string, Storm[]>(settings.map(({ label }) => [label, []]));
// Interleaved, so that a slow moment of the machine falls on both settings alike.
for (let run = 0; run < runs; run++) {
  for (const { label, limit: setting } of settings) {
    const result = await storm(setting);
    results.get(label)!.push(result);
    console.error(`${label}, run ${run + 1}: ${JSON.stringify(result)}`);
  }
}

console.log(`\nnpm run bench:workers-connect -- ${process.argv.slice(2).join(" ")}`);
console.log(`${clients} connects, 2 workers, memory engine; medians of ${runs} runs\n`);
console.log(
  "| setting | all connected (s) | server CPU µs/connect | primary CPU µs/connect | server CPU µs/close |",
);
console.log("|---|---|---|---|---|");
const rows = settings.map(({ label }) => {
  const storms = results.get(label)!;
  const row = {
    seconds: median(storms.map((s) => s.seconds)),
    server: (median(storms.map((s) => s.serverCpu)) / clients) * 1e6,
    primary: (median(storms.map((s) => s.primaryCpu)) / clients) * 1e6,
    close: (median(storms.map((s) => s.closeCpu)) / clients) * 1e6,
  };
  const cells = [row.seconds.toFixed(2), row.server.toFixed(0), row.primary.toFixed(0), row.close.toFixed(0)];
  console.log(`| ${label} | ${cells.join(" | ")} |`);
  return row;
});
const [without, withLimit] = rows as [(typeof rows)[0], (typeof rows)[0]];
console.log(
  `\nwith the limit / without: time ×${(withLimit.seconds / without.seconds).toFixed(2)}, server CPU ×${(withLimit.server / without.server).toFixed(2)}, primary CPU ×${(withLimit.primary / without.primary).toFixed(2)}`,
);
