/**
 * The seam through which an in-process RPC handler (Turbine's typed RPC registry, or an embedder's own)
 * answers client `rpc` commands before namespace and proxy routing.
 */
import type { ProtocolType } from "../protocol/codec.js";

/** One client `rpc` command and who sent it. */
export interface RpcCall {
  method: string;
  /** The command's `data`: raw JSON for JSON clients, whatever bytes a Protobuf client sent. */
  data: Uint8Array;
  /** The connection's user ID; "" for anonymous connections. */
  user: string;
  /** The connection's client ID. */
  client: string;
  /** Transport name as reported to proxies ("websocket", …). */
  transport: string;
  protocol: ProtocolType;
  /** The connection's server-only meta (raw JSON object), if any. */
  meta?: Uint8Array;
}

/** Answers RPC calls in-process. */
export interface RpcHandler {
  /** Whether `method` is served here; other methods go on to namespace (proxy) routing. */
  handles(method: string): boolean;
  /**
   * The result data sent back in the `rpc` reply. Throw a `ClientError` to answer with an error (or a
   * `Disconnect` to close); anything else becomes error 100 with a log line.
   */
  call(call: RpcCall): Promise<Uint8Array>;
}
