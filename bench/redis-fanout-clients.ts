/**
 * Child process of bench/redis-fanout.ts: opens N raw JSON-protocol WebSocket connections to one node and
 * subscribes connection i to channel `bench<i mod channels>`, then counts publication pushes. The first connection also reads each
 * publication's send time (`t`, Unix ms with fractions) to sample end-to-end latency; the others only count, so
 * this process stays cheap next to the node it measures. Protocol over stdio: prints `ready`; on a line
 * `<expected>` it prints `{"delivered":…,"latenciesMs":[…]}` once that many pushes arrived, and resets.
 */
import WebSocket from "ws";

const [url = "", countArg = "100", channelsArg = "1"] = process.argv.slice(2);
const count = Number(countArg);
const channels = Number(channelsArg);
let delivered = 0;
let expected = Number.POSITIVE_INFINITY;
let latencies: number[] = [];

const now = () => performance.timeOrigin + performance.now();

function openClient(index: number): Promise<void> {
  const sampled = index === 0;
  const channel = `bench${index % channels}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("open", () => {
      ws.send(`{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"${channel}"}}`);
    });
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      if (text.includes('"id":2')) resolve();
      let at = text.indexOf('"pub"');
      while (at !== -1) {
        delivered++;
        if (sampled) {
          const sent = /"t":([0-9.]+)/.exec(text.slice(at));
          if (sent) latencies.push(now() - Number(sent[1]));
        }
        at = text.indexOf('"pub"', at + 5);
      }
      if (delivered >= expected) report();
    });
    ws.on("error", reject);
  });
}

function report(): void {
  process.stdout.write(`${JSON.stringify({ delivered, latenciesMs: latencies })}\n`);
  expected = Number.POSITIVE_INFINITY;
  delivered = 0;
  latencies = [];
}

await openClient(0);
for (let opened = 1; opened < count; opened += 200) {
  await Promise.all(Array.from({ length: Math.min(200, count - opened) }, (_, i) => openClient(opened + i)));
}
process.stdout.write("ready\n");
process.stdin.on("data", (chunk) => {
  expected = Number(chunk.toString().trim());
  if (delivered >= expected) report();
});
