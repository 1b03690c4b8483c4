/**
 * A bare client-protocol client over `ws`, for tests that must send what no SDK sends: raw frames, malformed or
 * out-of-order commands, pipelined commands. Commands are written in the JSON protocol's shape
 * (`{ id: 1, connect: { token } }`, snake_case keys, `data` as a JSON value); on a Protobuf connection they are
 * converted with the generated schemas and framed with uvarint length prefixes. Replies come back in the same
 * JSON shape for both protocols; on Protobuf connections `data` fields hold the raw bytes.
 */
import { fromBinary, fromJson, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import WebSocket from "ws";
import { CommandSchema, ReplySchema } from "../../src/protocol/index.js";
import { within } from "./wait.js";

export type Protocol = "json" | "protobuf";

/** A command in the JSON protocol's shape. */
export type RawCommand = Record<string, unknown>;

/** A reply or push in the JSON protocol's shape; pushes and server pings have no `id`. */
export interface RawReply {
  id?: number;
  error?: { code: number; message: string; temporary?: boolean };
  push?: RawPush;
  [result: string]: unknown;
}

export interface RawPush {
  channel?: string;
  pub?: { data?: unknown; offset?: number | string; info?: { user?: string; client?: string } };
  [kind: string]: unknown;
}

/** How the server closed the socket. */
export interface CloseInfo {
  code: number;
  reason: string;
}

export interface RawOptions {
  /** Default "json". */
  protocol?: Protocol;
  /** WebSocket subprotocols to offer; default `centrifuge-json` or `centrifuge-protobuf`. */
  subprotocols?: string[];
  /** Sent as the `Origin` header. */
  origin?: string;
  /** How long to wait for any one reply or the close before failing; default 5000 ms. */
  timeoutMs?: number;
}

/** The server refused the WebSocket upgrade with this HTTP status. */
export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
    this.name = "UpgradeRefused";
  }
}

interface Waiter {
  match: (reply: RawReply) => boolean;
  resolve: (reply: RawReply) => void;
  reject: (err: Error) => void;
}

/**
 * A bare `ws` socket speaking the client protocol by hand, for exact checks of what the server writes and when
 * it closes: every reply and push is recorded in `replies`, and `closed` resolves with the close frame.
 */
export class RawClient {
  /** Everything the server wrote, in order. */
  readonly replies: RawReply[] = [];
  /** Resolves when the socket closes, with the server's close code and reason. */
  readonly closed: Promise<CloseInfo>;
  private readonly waiters = new Set<Waiter>();
  private closeInfo: CloseInfo | undefined;
  private nextId = 1;

  private constructor(
    readonly ws: WebSocket,
    readonly protocol: Protocol,
    private readonly timeoutMs: number,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const waiter of this.waiters) {
          waiter.reject(new Error(`socket closed (${code} ${reason.toString()}) while waiting`));
        }
        this.waiters.clear();
        resolve(this.closeInfo);
      });
    });
    ws.on("error", () => {});
    ws.on("message", (data: Buffer, isBinary) => {
      const replies = isBinary ? decodeProtobufFrame(new Uint8Array(data)) : decodeJsonFrame(data);
      for (const reply of replies) this.record(reply);
    });
  }

  /**
   * Open a socket to `url` (JSON unless `options.protocol` says otherwise). Rejects with UpgradeRefused when
   * the server answers the upgrade with an HTTP error status.
   */
  static open(url: string, options: RawOptions = {}): Promise<RawClient> {
    const protocol = options.protocol ?? "json";
    const subprotocols =
      options.subprotocols ?? (protocol === "protobuf" ? ["centrifuge-protobuf"] : ["centrifuge-json"]);
    const ws = new WebSocket(url, subprotocols, { origin: options.origin });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new RawClient(ws, protocol, options.timeoutMs ?? 5000)));
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        ws.terminate();
        reject(new UpgradeRefused(res.statusCode ?? 0));
      });
      ws.once("error", reject);
    });
  }

  /** Open a socket and `connect` with `token`. */
  static async connected(url: string, token: string, options: RawOptions = {}): Promise<RawClient> {
    const client = await RawClient.open(url, options);
    await client.connect(token);
    return client;
  }

  /** Send one command as is, in this socket's protocol (no id is added): `{}` is a pong. */
  send(command: RawCommand): void {
    this.sendCommands(command);
  }

  /** Encode commands into one frame of this socket's protocol and send it. */
  sendCommands(...commands: RawCommand[]): void {
    this.sendFrame(encodeFrame(this.protocol, commands));
  }

  /** Send one frame exactly as given: a string as a text frame, bytes as a binary frame. */
  sendFrame(frame: string | Uint8Array): void {
    this.ws.send(frame, { binary: typeof frame !== "string" });
  }

  /** Send a command with the next id and wait for its reply. */
  call(command: RawCommand): Promise<RawReply> {
    const id = this.id();
    const reply = this.reply(id);
    this.send({ id, ...command });
    return reply;
  }

  /** `connect` with a token; rejects if the server answers with an error. */
  async connect(token: string): Promise<RawReply> {
    const reply = await this.call({ connect: { token, name: "raw" } });
    if (reply.error !== undefined) throw new Error(`connect error ${reply.error.code}`);
    return reply;
  }

  /** A fresh command id, for commands sent with `send` or `sendCommands`. */
  id(): number {
    return this.nextId++;
  }

  /** The reply to command `id` (received already or still to come). */
  reply(id: number): Promise<RawReply> {
    return this.next((reply) => reply.id === id, `the reply to command ${id}`);
  }

  /** The first push matching `match` (received already or still to come). */
  async push(match: (push: RawPush) => boolean = () => true): Promise<RawPush> {
    const reply = await this.next((r) => r.push !== undefined && match(r.push), "a push");
    return reply.push as RawPush;
  }

  /**
   * The first reply (already received or future) matching `match`. Rejects when the socket closes first or
   * nothing matches within the timeout (a guard against hangs).
   */
  next(match: (reply: RawReply) => boolean, what = "a matching reply"): Promise<RawReply> {
    const seen = this.replies.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.closeInfo !== undefined) {
      const { code, reason } = this.closeInfo;
      return Promise.reject(new Error(`socket closed (${code} ${reason}) before ${what}`));
    }
    const waiting = new Promise<RawReply>((resolve, reject) => {
      this.waiters.add({ match, resolve, reject });
    });
    return within(waiting, what, this.timeoutMs, () => this.seenSoFar());
  }

  /** Wait for the server to close the socket. */
  expectClose(): Promise<CloseInfo> {
    return within(this.closed, "the socket to close", this.timeoutMs, () => this.seenSoFar());
  }

  /** Whether the socket is still open. */
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Close from our side and wait until the socket is gone. */
  async terminate(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await this.closed;
  }

  /** What arrived so far, for timeout messages: the count and the last few replies. */
  private seenSoFar(): string {
    const last = this.replies.slice(-3).map((reply) => JSON.stringify(reply, bytesAsLength));
    return `${this.replies.length} replies${last.length > 0 ? `, last: ${last.join(" ")}` : ""}`;
  }

  private record(reply: RawReply): void {
    this.replies.push(reply);
    for (const waiter of [...this.waiters]) {
      if (!waiter.match(reply)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(reply);
    }
  }
}

/** Whether a reply is a server ping (an empty Reply). */
export function isPing(reply: RawReply): boolean {
  return Object.keys(reply).length === 0;
}

/** One frame holding `commands`: JSON lines joined by "\n", or uvarint-prefixed Protobuf messages. */
export function encodeFrame(protocol: Protocol, commands: RawCommand[]): string | Uint8Array {
  if (protocol === "json") return commands.map((command) => JSON.stringify(command)).join("\n");
  return concat(commands.map((command) => lengthPrefixed(encodeProtobufCommand(command))));
}

/** A Command as Protobuf bytes (no length prefix); `data` values become their JSON text unless already bytes. */
export function encodeProtobufCommand(command: RawCommand): Uint8Array {
  return toBinary(CommandSchema, fromJson(CommandSchema, toProtoJson(command) as JsonValue));
}

/** `bytes` prefixed with their length as a uvarint, as Protobuf frames carry each message. */
export function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let n = bytes.length;
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  prefix.push(n);
  return concat([Uint8Array.from(prefix), bytes]);
}

function decodeJsonFrame(data: Buffer): RawReply[] {
  return data
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as RawReply);
}

function decodeProtobufFrame(frame: Uint8Array): RawReply[] {
  const replies: RawReply[] = [];
  let pos = 0;
  while (pos < frame.length) {
    let length = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = frame[pos++] as number;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    const message = fromBinary(ReplySchema, frame.subarray(pos, pos + length));
    pos += length;
    const json = toJson(ReplySchema, message, { useProtoFieldName: true }) as Record<string, unknown>;
    replies.push(bytesFromBase64(json) as RawReply);
  }
  return replies;
}

/** Protobuf JSON wants bytes as base64: encode each `data` value (JSON value or bytes). */
function toProtoJson(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "data") {
      const bytes = item instanceof Uint8Array ? item : new TextEncoder().encode(JSON.stringify(item));
      out[key] = Buffer.from(bytes).toString("base64");
    } else {
      out[key] = toProtoJson(item);
    }
  }
  return out;
}

/** The reverse of toProtoJson on replies: `data` fields back to bytes. */
function bytesFromBase64(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(bytesFromBase64);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      key === "data" && typeof item === "string"
        ? new Uint8Array(Buffer.from(item, "base64"))
        : bytesFromBase64(item);
  }
  return out;
}

function bytesAsLength(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? `<${value.length} bytes>` : value;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}
