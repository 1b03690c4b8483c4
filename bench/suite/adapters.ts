/**
 * Thin client-protocol adapters for the load generator. Every adapter uses the same `ws` client; they differ
 * only in the handshake that subscribes a connection to one channel, in answering keep-alive pings, and in
 * the server's publish endpoint. Publications are found in incoming frames by the payload's stamp (see
 * tracker.ts), whatever framing the server wraps around it, so counting costs the same for every server.
 */
import { create } from "@bufbuild/protobuf";
import {
  CommandSchema,
  ReplySchema,
  decodeProtobufMessage,
  encodeProtobufMessage,
} from "../../src/protocol/index.js";
import { turbineApiKey } from "./servers.js";

/** One handshake step's outcome: frames to send back, and whether the subscription is now active. */
export interface Step {
  send: (string | Uint8Array)[];
  subscribed: boolean;
}

export interface Adapter {
  readonly name: string;
  /** The WebSocket URL on a server listening on `port`. */
  url(port: number): string;
  readonly subprotocol?: string;
  /** The publish endpoint: path and headers of a POST whose body is `{"channel", "data"}`. */
  readonly publishPath: string;
  readonly publishHeaders: Record<string, string>;
  /** Frames to send once the socket is open. */
  open(channel: string, token: string): (string | Uint8Array)[];
  /** A frame received before the subscription is active. Throws on a refusal. */
  handshake(frame: Buffer, channel: string): Step;
  /** The answer to a keep-alive ping in this frame, if it holds one. */
  pong(frame: Buffer): string | Uint8Array | undefined;
}

const turbineApi = { publishPath: "/api/publish", publishHeaders: { "X-API-Key": turbineApiKey } };
const plainApi = { publishPath: "/publish", publishHeaders: {} };

/** Turbine, JSON protocol: connect and subscribe in one frame, newline-separated. */
export const turbineJson: Adapter = {
  name: "turbine-json",
  url: (port) => `ws://127.0.0.1:${port}/connection/websocket`,
  ...turbineApi,
  open: (channel, token) => [
    `${JSON.stringify({ id: 1, connect: { token } })}\n${JSON.stringify({ id: 2, subscribe: { channel } })}`,
  ],
  handshake(frame) {
    const text = frame.toString();
    if (text.includes('"error"')) throw new Error(`turbine refused: ${text}`);
    return { send: [], subscribed: text.includes('"id":2') };
  },
  pong: (frame) => (frame.indexOf("{}") === -1 ? undefined : "{}"),
};

/** Turbine, Protobuf protocol (length-prefixed Command/Reply messages in binary frames). */
export const turbineProtobuf: Adapter = {
  name: "turbine-protobuf",
  url: (port) => `ws://127.0.0.1:${port}/connection/websocket`,
  subprotocol: "centrifuge-protobuf",
  ...turbineApi,
  open: (channel, token) => [
    Buffer.concat([
      delimited(encodeProtobufMessage(CommandSchema, create(CommandSchema, { id: 1, connect: { token } }))),
      delimited(
        encodeProtobufMessage(CommandSchema, create(CommandSchema, { id: 2, subscribe: { channel } })),
      ),
    ]),
  ],
  handshake(frame) {
    let subscribed = false;
    forEachUnit(frame, (start, end) => {
      const reply = decodeProtobufMessage(ReplySchema, frame.subarray(start, end));
      if (reply.error !== undefined) throw new Error(`turbine refused: ${reply.error.message}`);
      if (reply.id === 2) subscribed = true;
    });
    return { send: [], subscribed };
  },
  pong(frame) {
    let ping = false;
    forEachUnit(frame, (start, end) => {
      if (start === end) ping = true;
    });
    return ping ? emptyUnit : undefined;
  },
};

const emptyUnit = new Uint8Array([0]);

/** Socket.IO 4 over Engine.IO v4, websocket transport only: open, connect to "/", subscribe with an ack. */
export const socketIo: Adapter = {
  name: "socketio",
  url: (port) => `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
  ...plainApi,
  open: () => [],
  handshake(frame, channel) {
    const text = frame.toString();
    if (text.startsWith("0{")) return { send: ["40"], subscribed: false };
    if (text.startsWith("40"))
      return { send: [`421${JSON.stringify(["subscribe", channel])}`], subscribed: false };
    if (text.startsWith("44")) throw new Error(`socket.io refused: ${text}`);
    return { send: [], subscribed: text.startsWith("431") };
  },
  pong: (frame) => (frame.length === 1 && frame[0] === 0x32 ? "3" : undefined),
};

/** The raw `ws` baseline: the first message names the channel, "ok" confirms. */
export const rawWs: Adapter = {
  name: "ws",
  url: (port) => `ws://127.0.0.1:${port}/`,
  ...plainApi,
  open: (channel) => [channel],
  handshake: (frame) => ({ send: [], subscribed: frame.toString() === "ok" }),
  pong: () => undefined,
};

function delimited(message: Uint8Array): Buffer {
  const prefix: number[] = [];
  let length = message.length;
  while (length > 0x7f) {
    prefix.push((length & 0x7f) | 0x80);
    length >>>= 7;
  }
  prefix.push(length);
  return Buffer.concat([Buffer.from(prefix), message]);
}

/** Walk the uvarint-length-prefixed units of a Protobuf frame. */
function forEachUnit(frame: Buffer, visit: (start: number, end: number) => void): void {
  let at = 0;
  while (at < frame.length) {
    let length = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = frame[at++] ?? 0;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80 && at < frame.length);
    visit(at, at + length);
    at += length;
  }
}

/** The bare `node:http` server: only the API scenario runs against it, with no subscribers. */
export const bareHttp: Adapter = {
  ...rawWs,
  name: "bare",
};
