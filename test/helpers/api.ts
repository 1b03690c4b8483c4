import { request as httpRequest } from "node:http";
import type { TestServer } from "./server.js";
import { WAIT_MS, within } from "./wait.js";

/** API key of the test servers' HTTP API. */
export const apiKey = "test-api-key";

/** Options of one server API call. */
export interface ApiCallOptions {
  /** Ask for the transport error mode for this call (HTTP header / GRPC metadata). */
  transportErrors?: boolean;
  /** The HTTP caller aborts the call after this long, {@link API_CALL_TIMEOUT_MS} by default (GRPC: no limit). */
  timeoutMs?: number;
}

/**
 * A call not answered in this long fails, well within a test file's timeout, so that a lost connection shows as
 * the call that hung rather than as a whole file timing out.
 */
export const API_CALL_TIMEOUT_MS = 60_000;

/**
 * Whether a call failed in transport (refused, reset, or timed out), not with an answer: the one kind of
 * failure a caller retries when the server process under it may have died.
 */
export function failedInTransport(err: unknown): boolean {
  return err instanceof TypeError || (err instanceof DOMException && err.name === "TimeoutError");
}

/** What a server API call returned. */
export interface ApiCallResult {
  /**
   * 200 on success and in the default error mode. In transport error mode, an error's HTTP status from the
   * reference's §2.2 table (a GRPC caller maps its status code onto the same table).
   */
  status: number;
  /** The response as Centrifugo's HTTP API spells it: `{"result":…}`, `{"error":…}`, `{"replies":…}`, or `{code, message}` in transport error mode. */
  json: unknown;
}

/**
 * Calls server API methods over one transport. The end-to-end suite is written against this, so every case runs
 * over HTTP and, with another implementation, over GRPC.
 */
export interface ApiCaller {
  /** `method` is the snake_case name (`presence_stats`); `body` the request in the HTTP API's JSON shape. */
  call(method: string, body: unknown, options?: ApiCallOptions): Promise<ApiCallResult>;
}

/** A raw HTTP exchange (status, headers, body text), for the cases the ApiCaller shape cannot express. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTP request to the test server over a fresh connection. */
export function rawRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<RawResponse> {
  const answered = new Promise<RawResponse>((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "POST",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
  return within(answered, `the answer to ${options.method ?? "POST"} ${path}`, 3 * WAIT_MS);
}

/** The HTTP API at `/api/<method>` with the `X-API-Key` header. */
export class HttpApiCaller implements ApiCaller {
  constructor(
    private readonly port: number,
    private readonly key = apiKey,
    private readonly prefix = "/api",
  ) {}

  async call(method: string, body: unknown, options: ApiCallOptions = {}): Promise<ApiCallResult> {
    const headers: Record<string, string> = { "Content-Type": "application/json", "X-API-Key": this.key };
    if (options.transportErrors) headers["X-Centrifugo-Error-Mode"] = "transport";
    const res = await fetch(`http://127.0.0.1:${this.port}${this.prefix}/${method}`, {
      method: "POST",
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? API_CALL_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.headers.get("content-type") !== "application/json") {
      throw new Error(`${method}: HTTP ${res.status} ${JSON.stringify(text)}`);
    }
    return { status: res.status, json: JSON.parse(text) };
  }
}

/** The HTTP API caller of a test server (started with `apiConfig`). */
export function httpCaller(server: TestServer): ApiCaller {
  return new HttpApiCaller(server.port);
}

/** `http_api` section of the test servers. */
export const apiConfig = { http_api: { key: apiKey } };
