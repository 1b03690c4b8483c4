/**
 * The documentation's Go example against Turbine, built offline with Debian's toolchain: golang-go,
 * golang-google-grpc-dev, golang-github-golang-protobuf-1-5-dev and golang-google-protobuf-dev (GOPATH mode over
 * /usr/share/gocode, as Debian packages Go libraries), stubs from proto/api.proto by Debian's protoc-gen-go and
 * protoc-gen-go-grpc. Skipped, with the package to install, when any of these is missing.
 *
 * test/grpc/go/main.go is the docs' publish loop as written; test/grpc/go/keyauth/main.go is the docs' API-key
 * variant with its two slips fixed (it calls `apiproto.NewCentrifugoClient` and names `PublishRequest` without
 * its package, so it cannot compile as printed). Only `localhost:10000` is replaced, by a free loopback port
 * that each case's server then listens on. Differences from the docs' steps, forced by building offline: GOPATH
 * mode instead of `go mod init` (no module proxy), and `go build` + running the binary instead of `go run` (so
 * that the test can stop it). The docs' protoc command runs as written: proto/api.proto has upstream's
 * `go_package` option.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, SubscribedContext } from "centrifuge";
import { newClient, once } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { toolMissing } from "../helpers/tools.js";

const run = promisify(execFile);
const PROTO = fileURLToPath(new URL("../../proto/api.proto", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../grpc/go/", import.meta.url));
/** Where Debian installs Go library sources. */
const DEBIAN_GOPATH = "/usr/share/gocode";

/** A port free on loopback right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function has(command: string, ...args: string[]): boolean {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

function missing(): string | false {
  if (!has("go", "version")) return "no go toolchain (apt-get install golang-go)";
  if (!has("protoc", "--version")) return "no protoc (apt-get install protobuf-compiler)";
  if (!has("protoc-gen-go", "--version")) return "no protoc-gen-go (apt-get install protoc-gen-go)";
  if (!has("protoc-gen-go-grpc", "--version"))
    return "no protoc-gen-go-grpc (apt-get install protoc-gen-go-grpc)";
  for (const pkg of ["google.golang.org/grpc", "google.golang.org/protobuf"]) {
    if (!existsSync(join(DEBIAN_GOPATH, "src", pkg))) {
      return `no ${pkg} in ${DEBIAN_GOPATH} (apt-get install golang-google-grpc-dev golang-google-protobuf-dev)`;
    }
  }
  // grpc 1.33 marshals through github.com/golang/protobuf: v1.3 (golang-github-golang-protobuf-1-3-dev, what apt
  // picks by default) predates the messages protoc-gen-go 1.28 generates, and sends garbage; v1.5 wraps APIv2.
  const legacy = join(DEBIAN_GOPATH, "src/github.com/golang/protobuf/proto/proto.go");
  if (!existsSync(legacy) || !readFileSync(legacy, "utf8").includes('"google.golang.org/protobuf/')) {
    return "github.com/golang/protobuf is not v1.4+ (apt-get install golang-github-golang-protobuf-1-5-dev)";
  }
  return false;
}

const skip = toolMissing(missing());

describe("the documentation's Go GRPC example", { skip, timeout: 180_000 }, () => {
  let gopath: string;
  let bin: string;
  /** The one GRPC port the programs are built for; each case starts its own server on it, one at a time. */
  let port: number;
  let current: TestServer | undefined;
  const clients: Centrifuge[] = [];
  const processes: ChildProcess[] = [];

  before(async () => {
    gopath = mkdtempSync(join(tmpdir(), "turbine-grpc-go-"));
    const project = join(gopath, "src", "centrifugo_example");
    const apiproto = join(project, "apiproto");
    mkdirSync(apiproto, { recursive: true });
    port = await freePort();
    for (const file of ["main.go", "keyauth/main.go"]) {
      const source = readFileSync(join(EXAMPLE, file), "utf8");
      assert.ok(source.includes('"localhost:10000"'), `${file} dials localhost:10000 as the docs do`);
      mkdirSync(join(project, file, ".."), { recursive: true });
      writeFileSync(join(project, file), source.replace('"localhost:10000"', `"127.0.0.1:${port}"`));
    }
    cpSync(PROTO, join(apiproto, "api.proto"));
    await run("protoc", ["-I", "./", "api.proto", "--go_out=.", "--go-grpc_out=."], { cwd: apiproto });
    bin = join(gopath, "bin");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GOPATH: `${gopath}:${DEBIAN_GOPATH}`,
      GO111MODULE: "off",
      GOPROXY: "off",
      GOFLAGS: "",
    };
    if (env.HOME === undefined) env.GOCACHE = join(gopath, "cache");
    await run("go", ["build", "-o", `${bin}/`, "./..."], { cwd: project, env, timeout: 150_000 });
  });
  after(async () => {
    for (const child of processes) child.kill();
    for (const client of clients) client.disconnect();
    await current?.close();
    rmSync(gopath, { recursive: true, force: true });
  });

  /** Replace the running server by one with this key and, unless told otherwise, a chat namespace. */
  async function server(key: string, namespaces = true): Promise<TestServer> {
    await current?.close();
    current = undefined;
    current = await startTestServer({
      grpc_api: { enabled: true, address: "127.0.0.1", port, key },
      channel: namespaces ? { namespaces: [{ name: "chat", allow_subscribe_for_client: true }] } : {},
      client: { insecure: true },
    });
    return current;
  }

  /** Run the program `name` until its first log line (without the date and time), then stop it. */
  async function firstLine(name: string): Promise<string> {
    const child = spawn(join(bin, name), [], { stdio: ["ignore", "ignore", "pipe"] });
    processes.push(child);
    try {
      const line = new Promise<string>((resolve, reject) => {
        let text = "";
        child.stderr?.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          const end = text.indexOf("\n");
          if (end >= 0) resolve(text.slice(0, end).replace(/^\S+ \S+ /, ""));
        });
        child.on("exit", (code) => reject(new Error(`${name} exited with ${code}: ${text}`)));
      });
      return await within(line, `${name}'s first log line`, 30_000);
    } finally {
      child.kill();
    }
  }

  /** A Protobuf client subscribed to chat:index; then the promise of its next publication. */
  async function subscribed(target: TestServer): Promise<{ next: Promise<PublicationContext> }> {
    const client = newClient(target.url, "protobuf");
    clients.push(client);
    client.connect();
    const sub = client.newSubscription("chat:index");
    const ready = once<SubscribedContext>(sub, "subscribed");
    sub.subscribe();
    await within(ready, "subscribe to chat:index");
    return { next: once<PublicationContext>(sub, "publication") };
  }

  it("the publish loop publishes into chat:index", async () => {
    const target = await server("");
    const { next } = await subscribed(target);
    assert.equal(await firstLine("centrifugo_example"), "Successfully published");
    const pub = await within(next, "publication");
    assert.equal(Buffer.from(pub.data as Uint8Array).toString(), '{"input": "hello from GRPC"}');
  });

  it("prints a Centrifugo error from resp.GetError()", async () => {
    await server("", false);
    assert.equal(await firstLine("centrifugo_example"), "Error 102 (unknown channel)");
  });

  it("with grpc_api.key: the keyAuth credentials pass, no credentials get Unauthenticated", async () => {
    const target = await server("xxx");
    const { next } = await subscribed(target);
    assert.equal(await firstLine("keyauth"), "Successfully published");
    await within(next, "publication");
    assert.equal(
      await firstLine("centrifugo_example"),
      "Transport level error: rpc error: code = Unauthenticated desc = unauthenticated",
    );
  });
});
