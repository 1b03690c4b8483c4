/**
 * Child process of bench/fanout.ts: opens N raw JSON-protocol WebSocket connections, subscribes each to one
 * channel, then counts publication pushes until it has seen N × M. Talks to the parent over stdout/stdin.
 */
import WebSocket from "ws";

const [url = "", countArg = "100", channel = "bench"] = process.argv.slice(2);
const count = Number(countArg);
let delivered = 0;
let expected = Number.POSITIVE_INFINITY;

function openClient(): Promise<void> {
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
        at = text.indexOf('"pub"', at + 5);
      }
      if (delivered >= expected) report();
    });
    ws.on("error", reject);
  });
}

function report(): void {
  process.stdout.write(`done ${delivered}\n`);
  expected = Number.POSITIVE_INFINITY;
}

for (let opened = 0; opened < count; opened += 200) {
  await Promise.all(Array.from({ length: Math.min(200, count - opened) }, openClient));
}
process.stdout.write("ready\n");
process.stdin.on("data", (chunk) => {
  expected = Number(chunk.toString().trim());
  if (delivered >= expected) report();
});
