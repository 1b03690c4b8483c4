import type { ProtocolType } from "../protocol/codec.js";
import type { Disconnect } from "../protocol/codes.js";

/**
 * What a client session needs from its connection: a write-only pipe to the wire. The transport's own read
 * loop feeds frames into `Client.handleFrame`; a unidirectional transport reads one connect request and hands
 * it to `Client.connectUnidirectional` instead.
 */
export interface Transport {
  /** "websocket", "uni_sse", … as reported to proxies and metrics. */
  readonly name: string;
  readonly protocol: ProtocolType;
  /** False when the transport keeps the connection alive itself (native WebSocket ping frames). */
  readonly appLevelPing: boolean;
  /**
   * The server only pushes (centrifuge's `Transport.Unidirectional`): messages are bare `Push`es (Protobuf
   * ones without a length prefix), the connect result goes out as a `connect` push with a `session`, pings
   * are empty pushes that expect no pong, and no commands are read. Absent means false.
   */
  readonly unidirectional?: boolean;
  /**
   * Push a `disconnect` (code and reason) before closing for any reason but the peer going away, for
   * transports that have no close frame to carry them (centrifuge's `DisabledPushFlags`). Absent means false.
   */
  readonly disconnectPush?: boolean;
  /** App-level ping period in ms that the transport fixes itself, instead of `client.ping_interval`. */
  readonly pingInterval?: number;
  /** Bytes written but not yet handed to the OS; counted against `client.queue_max_size`. */
  readonly bufferedAmount: number;
  /** Send one frame (one or more encoded messages joined by the codec). */
  write(frame: Uint8Array): void;
  /**
   * Send several encoded messages at once, each framed by the transport (an SSE event, a GRPC message, a line).
   * When present the writer calls it instead of joining messages for `write`. The array is read during the
   * call only.
   */
  writeMany?(units: readonly Uint8Array[]): void;
  /** Close the connection with the disconnect's code and reason (no close frame for code 3000). */
  close(disconnect: Disconnect): void;
  /**
   * A bidirectional emulation (SSE, HTTP-streaming): the server streams, the client's commands come through
   * `/emulation`. Its session gets a `session` id and the node's id in the connect result to address them.
   */
  readonly emulation?: boolean;
}

/** What the transport learned from the request that opened the connection. */
export interface TransportRequest {
  headers: Readonly<Record<string, string>>;
  /**
   * The peer's address, where a transport has it at hand. Nothing in the core reads it; the WebSocket
   * transport leaves it out, as reading it caches the peer name on every socket.
   */
  remoteAddress?: string;
  /** GRPC metadata of a GRPC client transport (lower-case keys), for the proxies' `grpc_metadata`. */
  metadata?: Readonly<Record<string, string>>;
}

/** The one empty header set, shared by every connection that keeps no headers. */
export const noHeaders: Readonly<Record<string, string>> = Object.freeze({});

/** The one request of every connection that keeps nothing of its request. */
export const noRequest: TransportRequest = Object.freeze({ headers: noHeaders });
