/**
 * Unidirectional clients as users write them, each reduced to a queue of received pushes: `curl -N` for
 * uni_http_stream, an EventSource for uni_sse, a raw `ws` socket for uni_websocket, and a GRPC stub built from
 * proto/unistream.proto for uni_grpc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  type ChannelCredentials,
  type ClientReadableStream,
  credentials,
  loadPackageDefinition,
  type Metadata,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { EventSource } from "eventsource";
import { WebSocket } from "ws";
import { within } from "./sessions.js";

/** A push as JSON or the GRPC stub decodes it (bytes fields as Buffers). */
export type UniPush = Record<string, unknown>;

export type UniTransport = "uni_http_stream" | "uni_sse" | "uni_websocket" | "uni_grpc";

export const uniTransports: readonly UniTransport[] = [
  "uni_http_stream",
  "uni_sse",
  "uni_websocket",
  "uni_grpc",
];

/** Pushes in arrival order; `ended` settles when the server ends the stream. */
export class PushQueue {
  private readonly items: UniPush[] = [];
  private waiter: (() => void) | undefined;
  private endedWith: (() => void) | undefined;
  private isEnded = false;
  readonly ended: Promise<void>;
  /** Raw frames of a WebSocket (to see how pushes were joined). */
  readonly frames: string[] = [];
  /** The close frame of a WebSocket. */
  close: { code: number; reason: string } | undefined;

  constructor(readonly stop: () => void) {
    this.ended = new Promise((resolve) => (this.endedWith = resolve));
  }

  add(push: UniPush): void {
    this.items.push(push);
    this.waiter?.();
  }

  end(): void {
    this.isEnded = true;
    this.endedWith?.();
    this.waiter?.();
  }

  /** The next push; fails naming `what` when none comes. */
  async next(what: string, ms = 10_000): Promise<UniPush> {
    await within(
      (async () => {
        while (this.items.length === 0) {
          if (this.isEnded) throw new Error(`the stream ended before ${what}`);
          await new Promise<void>((resolve) => (this.waiter = resolve));
        }
      })(),
      what,
      ms,
    );
    return this.items.shift() as UniPush;
  }

  /** The next push that is not a ping. */
  async nextMessage(what: string): Promise<UniPush> {
    for (;;) {
      const push = await this.next(what);
      if (kindOf(push) !== "ping") return push;
    }
  }

  /** Resolves when the server ended the stream. */
  whenEnded(what: string): Promise<void> {
    return within(this.ended, what);
  }
}

/** Which push it is: "connect", "pub", "disconnect", …, or "ping" for an empty one. */
export function kindOf(push: UniPush): string {
  const fields = [
    "connect",
    "pub",
    "join",
    "leave",
    "subscribe",
    "unsubscribe",
    "message",
    "disconnect",
    "refresh",
  ];
  return fields.find((field) => push[field] !== undefined && push[field] !== null) ?? "ping";
}

/** A `bytes` field as JSON: embedded as is in the JSON protocol, a Buffer from the GRPC stub. */
export function jsonOf(value: unknown): unknown {
  return Buffer.isBuffer(value) ? JSON.parse(value.toString()) : value;
}

/** Open a connection of `transport` with this ConnectRequest (JSON form). */
export function openUni(
  transport: UniTransport,
  base: { httpPort: number; grpcPort?: number },
  request: Record<string, unknown>,
): PushQueue {
  const http = `127.0.0.1:${base.httpPort}/connection/${transport}`;
  switch (transport) {
    case "uni_http_stream":
      return curlStream(`http://${http}`, JSON.stringify(request));
    case "uni_sse":
      return eventSource(`http://${http}?cf_connect=${encodeURIComponent(JSON.stringify(request))}`);
    case "uni_websocket":
      return webSocket(`ws://${http}`, JSON.stringify(request));
    case "uni_grpc":
      return grpcStream(`127.0.0.1:${base.grpcPort}`, request);
  }
}

function curlStream(url: string, body: string): PushQueue {
  const curl: ChildProcess = spawn("curl", ["-sN", "--data-binary", body, url]);
  const queue = new PushQueue(() => curl.kill());
  let rest = "";
  curl.stdout?.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) if (line !== "") queue.add(JSON.parse(line) as UniPush);
  });
  curl.on("exit", () => queue.end());
  return queue;
}

/** The stream ends at the first error: the server closed it (EventSource would reconnect, we stop it). */
function eventSource(url: string): PushQueue {
  const source = new EventSource(url);
  const queue = new PushQueue(() => source.close());
  source.onmessage = (event) => queue.add(JSON.parse(event.data) as UniPush);
  source.onerror = () => {
    source.close();
    queue.end();
  };
  return queue;
}

/** The connect request goes as the first message (the other way, `?cf_connect=`, has its own test). */
function webSocket(url: string, connect: string): PushQueue {
  const ws = new WebSocket(url);
  const queue = new PushQueue(() => ws.terminate());
  ws.on("open", () => ws.send(connect));
  ws.on("message", (data) => {
    const text = String(data);
    queue.frames.push(text);
    for (const line of text.split("\n")) queue.add(JSON.parse(line) as UniPush);
  });
  ws.on("close", (code, reason) => {
    queue.close = { code, reason: reason.toString() };
    queue.end();
  });
  ws.on("error", () => queue.end());
  return queue;
}

const protoPath = fileURLToPath(new URL("../../proto/unistream.proto", import.meta.url));

export interface UniStreamStub {
  Consume(request: unknown, metadata?: Metadata): ClientReadableStream<UniPush>;
  close(): void;
}

/** A stub generated at run time from our proto, as a Node.js user would with @grpc/proto-loader. */
export function uniStreamStub(
  address: string,
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
): UniStreamStub {
  const definition = loadSync(protoPath, { keepCase: true, longs: Number, defaults: false });
  const pkg = loadPackageDefinition(definition) as unknown as {
    centrifugal: {
      centrifugo: { unistream: { CentrifugoUniStream: new (...args: unknown[]) => UniStreamStub } };
    };
  };
  return new pkg.centrifugal.centrifugo.unistream.CentrifugoUniStream(address, channelCredentials);
}

function grpcStream(address: string, request: Record<string, unknown>): PushQueue {
  const stub = uniStreamStub(address);
  const call = stub.Consume({
    ...request,
    data: request.data === undefined ? undefined : Buffer.from(JSON.stringify(request.data)),
  });
  const queue = new PushQueue(() => {
    call.cancel();
    stub.close();
  });
  call.on("data", (push: UniPush) => queue.add(push));
  call.on("end", () => queue.end());
  call.on("error", () => queue.end());
  return queue;
}
