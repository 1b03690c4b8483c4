import type { ProtocolType } from "../protocol/codec.js";
import type { Disconnect } from "../protocol/codes.js";

/**
 * What a client session needs from its connection: a write-only pipe to the wire. The transport's own read
 * loop feeds frames into `Client.handleFrame`.
 */
export interface Transport {
  /** "websocket", "sse", … as reported to proxies. */
  readonly name: string;
  readonly protocol: ProtocolType;
  /** False when the transport keeps the connection alive itself (native WebSocket ping frames). */
  readonly appLevelPing: boolean;
  /** Bytes written but not yet handed to the OS; counted against `client.queue_max_size`. */
  readonly bufferedAmount: number;
  /** Send one frame (one or more encoded messages joined by the codec). */
  write(frame: Uint8Array): void;
  /** Close the connection with the disconnect's code and reason (no close frame for code 3000). */
  close(disconnect: Disconnect): void;
  /**
   * A bidirectional emulation (SSE, HTTP-streaming): the server streams, the client's commands come through
   * `/emulation`. Its session gets a `session` id and the node's id in the connect result to address them.
   */
  readonly emulation?: boolean;
}

/** What the transport learned from the HTTP upgrade request. */
export interface TransportRequest {
  headers: Readonly<Record<string, string>>;
  remoteAddress: string;
}

/** The one empty header set, shared by every connection that keeps no headers. */
export const noHeaders: Readonly<Record<string, string>> = Object.freeze({});
