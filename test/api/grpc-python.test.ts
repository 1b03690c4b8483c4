/**
 * The documentation's Python example against Turbine: stubs generated from proto/api.proto with
 * `python3 -m grpc_tools.protoc` exactly as the docs say (Debian's python3-grpcio and python3-grpc-tools), and the
 * scripts in test/grpc/ run as written there, with only `localhost:10000` replaced by the test server's address.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, SubscribedContext } from "centrifuge";
import { newClient, once } from "../helpers/clients.js";
import { grpcPort } from "../helpers/grpc.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { toolMissing } from "../helpers/tools.js";

const run = promisify(execFile);
const PROTO = fileURLToPath(new URL("../../proto/api.proto", import.meta.url));
const SCRIPTS = fileURLToPath(new URL("../grpc/", import.meta.url));

/**
 * A Python with `grpc` and `grpc_tools` importable: $TURBINE_PYTHON, the first `python3` on PATH, or Debian's
 * own (a pyenv or venv python3 earlier on PATH does not see Debian's packages).
 */
function findPython(): string | undefined {
  const candidates = [process.env.TURBINE_PYTHON, "python3", "/usr/bin/python3"];
  for (const python of candidates) {
    if (python === undefined || python === "") continue;
    const probe = spawnSync(python, ["-c", "import grpc, grpc_tools"], { stdio: "ignore" });
    if (probe.status === 0) return python;
  }
  return undefined;
}

const python = findPython();
const skip = toolMissing(
  python === undefined
    ? "no python3 with grpc and grpc_tools (apt-get install python3-grpcio python3-grpc-tools; .ci/run does)"
    : false,
);

const channel = { namespaces: [{ name: "chat", allow_subscribe_for_client: true }] };

describe("the documentation's Python GRPC example", { skip }, () => {
  let dir: string;
  const servers: TestServer[] = [];
  const clients: Centrifuge[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "turbine-grpc-python-"));
    copyFileSync(PROTO, join(dir, "api.proto"));
    // As the docs run it, in the folder holding api.proto.
    await run(
      python as string,
      ["-m", "grpc_tools.protoc", "-I", "./", "--python_out=.", "--grpc_python_out=.", "api.proto"],
      { cwd: dir },
    );
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    for (const server of servers) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A server with the GRPC API (`grpc` merged into its section) and, unless told otherwise, a chat namespace. */
  async function server(grpc: Record<string, unknown>, namespaces = true): Promise<TestServer> {
    const started = await startTestServer({
      grpc_api: { enabled: true, address: "127.0.0.1", port: 0, ...grpc },
      channel: namespaces ? channel : {},
      client: { insecure: true },
    });
    servers.push(started);
    return started;
  }

  /** Run test/grpc/<script> against `server`; its stdout. */
  async function script(name: string, target: TestServer): Promise<string> {
    const source = readFileSync(join(SCRIPTS, name), "utf8");
    assert.ok(source.includes("'localhost:10000'"), `${name} targets localhost:10000 as the docs do`);
    const path = join(dir, name);
    writeFileSync(path, source.replace("'localhost:10000'", `'127.0.0.1:${grpcPort(target)}'`));
    const { stdout } = await run(python as string, [path], { cwd: dir, timeout: 20_000 });
    return stdout;
  }

  it("generated the two modules the docs name", () => {
    for (const file of ["api_pb2.py", "api_pb2_grpc.py"]) {
      assert.match(readFileSync(join(dir, file), "utf8"), /centrifugal\.centrifugo\.api/);
    }
    assert.match(readFileSync(join(dir, "api_pb2_grpc.py"), "utf8"), /class CentrifugoApiStub/);
  });

  it("Info prints the node", async () => {
    const out = await script("info.py", await server({}));
    assert.match(out, /^nodes \{\n/);
    assert.match(out, /\n {2}uid: "[^"]+"\n/);
    assert.match(out, /\n {2}name: "[^"]+"\n/);
    assert.match(out, /\n {2}version: "[^"]*"\n/);
  });

  it("Publish reaches a Protobuf centrifuge client, JSON and binary bytes alike", async () => {
    const target = await server({});
    const client = newClient(target.url, "protobuf");
    clients.push(client);
    /** Subscribe to `name`; then the promise of its next publication. */
    const subscribe = async (name: string): Promise<{ next: Promise<PublicationContext> }> => {
      const sub = client.newSubscription(name);
      const ready = once<SubscribedContext>(sub, "subscribed");
      sub.subscribe();
      await within(ready, `subscribe to ${name}`);
      return { next: once<PublicationContext>(sub, "publication") };
    };
    client.connect();
    const onIndex = (await subscribe("chat:index")).next;
    const onBinary = (await subscribe("chat:binary")).next;
    assert.equal(await script("publish.py", target), "Successfully published\nSuccessfully published\n");
    assert.equal(
      Buffer.from((await within(onIndex, "publication")).data as Uint8Array).toString(),
      '{"input": "hello from GRPC"}',
    );
    assert.deepEqual(
      Buffer.from((await within(onBinary, "binary publication")).data as Uint8Array),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    );
  });

  it("a Centrifugo error is printed from resp.error, not raised", async () => {
    const target = await server({}, false);
    assert.equal(await script("publish.py", target), "102 unknown channel\n102 unknown channel\n");
  });

  it("in transport error mode the same error is a GRPC status", async () => {
    const target = await server({ error_mode: "transport" }, false);
    assert.equal(
      await script("publish.py", target),
      "StatusCode.NOT_FOUND unknown channel\nStatusCode.NOT_FOUND unknown channel\n",
    );
  });

  it("with grpc_api.key: the key in authorization metadata passes, no key is UNAUTHENTICATED", async () => {
    const target = await server({ key: "xxx" });
    assert.match(await script("api_key.py", target), /^nodes \{\n {2}uid: "[^"]+"/);
    assert.equal(await script("info.py", target), "StatusCode.UNAUTHENTICATED unauthenticated\n");
    const wrong = await server({ key: "another" });
    assert.equal(await script("api_key.py", wrong), "StatusCode.UNAUTHENTICATED unauthenticated\n");
  });
});
