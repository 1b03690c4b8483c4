/**
 * HTTP proxy endpoint (`http://` or `https://`): a POST of the request message as JSON (`Content-Type:
 * application/json`, Go encoding/json rules: snake_case keys, empty fields left out, `bytes` as raw JSON),
 * answered by status 200 and the JSON response envelope. Any other status fails the call unless
 * `http.status_to_code_transforms` turns it into an error or a disconnect. The timeout covers the whole
 * exchange, body included, as Go's http.Client timeout does.
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import {
  create,
  type DescMessage,
  type MessageInitShape as Init,
  type MessageShape,
} from "@bufbuild/protobuf";
import { clientTlsOptions } from "../config/index.js";
import type { ProxyCaller } from "../core/proxy.js";
import { decodeJsonMessage, encodeJsonMessage } from "../protocol/index.js";
import { type ProxyConfig, ProxyCallError, type ProxyEndpoint } from "./endpoint.js";
import { forwardedHeaders } from "./headers.js";
import type { ProxyMethod } from "./methods.js";

/** Bodies beyond this are refused rather than buffered without bound. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Same idle pool per host as upstream's proxy HTTP client. */
const MAX_IDLE_SOCKETS = 255;

export class HttpProxyEndpoint implements ProxyEndpoint {
  readonly protocol = "http";
  private readonly url: URL;
  private readonly agent: HttpAgent;

  /** `key` names the config section in errors about it. */
  constructor(
    private readonly config: ProxyConfig,
    key: string,
  ) {
    this.url = new URL(config.endpoint);
    const tls = config.http.tls;
    this.agent =
      this.url.protocol === "https:"
        ? new HttpsAgent({
            keepAlive: true,
            maxFreeSockets: MAX_IDLE_SOCKETS,
            ...(tls.enabled ? clientTlsOptions(tls, `${key}.http.tls`) : {}),
          })
        : new HttpAgent({ keepAlive: true, maxFreeSockets: MAX_IDLE_SOCKETS });
  }

  async call<Req extends DescMessage, Res extends DescMessage>(
    method: ProxyMethod<Req, Res>,
    request: MessageShape<Req>,
    caller: ProxyCaller,
  ): Promise<MessageShape<Res>> {
    let body: Uint8Array;
    try {
      body = encodeJsonMessage(method.request, request);
    } catch (err) {
      throw new ProxyCallError(`cannot encode ${method.name} request as JSON`, { cause: err });
    }
    const headers = {
      ...forwardedHeaders(this.config, caller, this.config.http.static_headers),
      "content-type": "application/json",
    };
    const { status, data } = await this.post(body, headers);
    if (status !== 200) return this.transformStatus(method, status);
    try {
      return decodeJsonMessage(method.response, data);
    } catch (err) {
      throw new ProxyCallError(`cannot decode ${method.name} response`, { cause: err });
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /** A status listed in `status_to_code_transforms` becomes an error or disconnect; any other fails the call. */
  private transformStatus<Res extends DescMessage>(method: ProxyMethod<DescMessage, Res>, status: number) {
    for (const t of this.config.http.status_to_code_transforms) {
      if (t.status_code !== status) continue;
      // Every response message has `error` (2) and `disconnect` (3) fields.
      if (t.to_error.code > 0) return create(method.response, { error: t.to_error } as unknown as Init<Res>);
      if (t.to_disconnect.code > 0)
        return create(method.response, { disconnect: t.to_disconnect } as unknown as Init<Res>);
    }
    throw new ProxyCallError(`unexpected HTTP status code: ${status}`);
  }

  private post(
    body: Uint8Array,
    headers: Record<string, string>,
  ): Promise<{ status: number; data: Uint8Array }> {
    const send = this.url.protocol === "https:" ? httpsRequest : httpRequest;
    let timer: NodeJS.Timeout | undefined;
    const exchange = new Promise<{ status: number; data: Uint8Array }>((resolve, reject) => {
      const req = send(this.url, { method: "POST", agent: this.agent, headers }, (res) =>
        readBody(res).then((data) => resolve({ status: res.statusCode ?? 0, data }), reject),
      );
      if (this.config.timeout > 0)
        timer = setTimeout(
          () => req.destroy(new ProxyCallError(`proxy request timed out after ${this.config.timeout} ms`)),
          this.config.timeout,
        );
      req.on("error", reject);
      req.end(body);
    });
    return exchange.then(
      (result) => {
        clearTimeout(timer);
        return result;
      },
      (err: unknown) => {
        clearTimeout(timer);
        throw err instanceof ProxyCallError ? err : new ProxyCallError("HTTP request error", { cause: err });
      },
    );
  }
}

function readBody(res: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) res.destroy(new ProxyCallError("proxy response too large"));
      else chunks.push(chunk);
    });
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", reject);
  });
}
