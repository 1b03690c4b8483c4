/**
 * One configured proxy endpoint: sends a request message and returns the backend's response envelope
 * (`result` / `error` / `disconnect`). HTTP and GRPC endpoints implement it; everything above works on
 * messages only.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Config } from "../config/index.js";
import type { ProxyCaller } from "../core/proxy.js";
import type { ProxyMethod } from "./methods.js";

/** The options of one proxy (`client.proxy.connect`, `rpc.proxy`, an item of `proxies[]`, …). */
export type ProxyConfig = Omit<Config["proxies"][number], "name">;

/** An unexpected failure of a proxy call (network, status, timeout, undecodable body): error 100 to the client. */
export class ProxyCallError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProxyCallError";
  }
}

export interface ProxyEndpoint {
  /** "http" or "grpc". */
  readonly protocol: string;
  /**
   * Call `method`. Resolves with the response envelope (a non-200 status the config transforms becomes its
   * `error` or `disconnect`); rejects with ProxyCallError on any other failure, within the proxy timeout.
   */
  call<Req extends DescMessage, Res extends DescMessage>(
    method: ProxyMethod<Req, Res>,
    request: MessageShape<Req>,
    caller: ProxyCaller,
  ): Promise<MessageShape<Res>>;
  /** Release connections. */
  close(): void;
}
