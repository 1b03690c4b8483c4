import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Centrifuge, PublicationContext } from "centrifuge";
import { collect, newClient } from "../helpers/clients.js";
import { servingPort } from "../helpers/process.js";
import { within } from "../helpers/wait.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = "dist/cli/main.js";

/**
 * The README's run command: the built CLI with config.sample.json (port 0 here, so tests never collide),
 * driven by the official client with a token from `turbine gentoken`.
 */
let server: ChildProcessWithoutNullStreams;
let port: number;

before(async () => {
  server = spawn(process.execPath, [cli, "-c", "config.sample.json", "-p", "0"], { cwd: root });
  const serving = new Promise<number>((resolve, reject) => {
    const output: string[] = [];
    createInterface({ input: server.stderr }).on("line", (line) => {
      output.push(line);
      const serving = servingPort(line);
      if (serving !== undefined) resolve(serving);
    });
    server.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output.join("\n")}`)));
  });
  port = await within(serving, "the sample config's server to log its port");
});

after(async () => {
  server.kill("SIGTERM");
  if (server.exitCode === null)
    await within(once(server, "exit"), "the sample config's server to exit on SIGTERM");
});

test("the sample config serves chat with presence and history to the official client", async () => {
  const token = execFileSync(
    process.execPath,
    [cli, "gentoken", "-c", "config.sample.json", "-u", "42", "-q"],
    {
      cwd: root,
      encoding: "utf8",
    },
  ).trim();
  const client: Centrifuge = newClient(`ws://127.0.0.1:${port}/connection/websocket`, "json", { token });
  client.connect();
  const sub = client.newSubscription("chat:index");
  sub.subscribe();
  await sub.ready(5000);
  const received = collect<PublicationContext>(sub, "publication", 1);
  await sub.publish({ text: "hello" });
  const [pub] = await received;
  assert.deepEqual(pub?.data, { text: "hello" });
  assert.equal(pub?.info?.user, "42");
  const presence = await sub.presence();
  assert.equal(Object.keys(presence.clients).length, 1);
  const history = await sub.history({ limit: 10 });
  assert.equal(history.publications.length, 1);
  client.disconnect();
});
