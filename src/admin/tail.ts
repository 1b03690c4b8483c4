/**
 * The live tail of a channel, a Turbine addition: `GET <prefix>/admin/tail?channel=<ch>` answers a stream of
 * newline-delimited JSON, the client protocol's replies and pushes exactly as a JSON subscriber receives them
 * (the connect reply, a `subscribe` push, then `pub`, `join`, `leave`, `unsubscribe` pushes as they happen),
 * ended by a `{"disconnect":{code, reason}}` line when the session closes.
 *
 * Behind it is a real client session on this node, on an in-process transport: it connects (with a connection
 * token the server signs itself when `client.token.hmac_secret_key` is set, else anonymously where the config
 * allows it) as user {@link TAIL_USER}, then is subscribed server-side as the server API's `subscribe` does, so
 * any channel can be tailed whatever its namespace lets clients do, and what is shown is what subscribers get.
 * The subscription overrides keep the observer out of sight: it is not in presence and emits no join or leave,
 * but receives the joins and leaves of others.
 * The browser reads the stream with `fetch` (so the admin token travels in `Authorization`, as for the API);
 * one shared timer writes an empty line every {@link HEARTBEAT_MS} so idle streams are not timed out.
 */
import { createHmac } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config/index.js";
import type { Client } from "../core/client.js";
import type { Node } from "../core/node.js";
import { noHeaders, type Transport } from "../core/transport.js";
import type { Disconnect } from "../protocol/codes.js";

/** The user ID of tail sessions, as presence and join/leave pushes show them. */
export const TAIL_USER = "turbine-admin";
/** Transport name of tail sessions (the `transport` label of client metrics). */
export const TAIL_TRANSPORT = "admin_tail";
/** An empty line this often keeps an idle stream alive through the listener's and proxies' write timeouts. */
export const HEARTBEAT_MS = 5_000;

const NEWLINE = Buffer.from("\n");

/** Open tails, and the one heartbeat timer they share while there are any. */
export class Tails {
  private readonly open = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly node: Node,
    private readonly token: Config["client"]["token"],
  ) {}

  /** Serve one tail request (already authorized); a missing channel is 400. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    const channel = new URL(req.url ?? "/", "http://x").searchParams.get("channel") ?? "";
    if (channel === "") {
      res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8" }).end("Bad Request\n");
      return;
    }
    res.writeHead(200, {
      "Content-Type": "application/x-ndjson",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    });
    res.flushHeaders();
    this.track(res);
    const transport = new TailTransport(res);
    const client = this.node.createClient(transport, {
      headers: noHeaders,
      remoteAddress: req.socket.remoteAddress ?? "",
    });
    transport.onConnected = () => subscribe(client, channel, res);
    res.once("close", () => {
      this.untrack(res);
      client.onTransportClosed();
    });
    const token = this.connectToken();
    client.handleFrame(Buffer.from(JSON.stringify({ id: 1, connect: { token, name: "turbine-admin" } })));
  }

  /** Stop the heartbeat (the node's shutdown closes the sessions). */
  close(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /**
   * An HS256 connection token for {@link TAIL_USER}, without expiry: it never leaves this process. "" (connect
   * without a token) when the config has no HMAC secret.
   */
  private connectToken(): string {
    const { hmac_secret_key: secret, audience, issuer, user_id_claim: userClaim } = this.token;
    if (secret === "") return "";
    const claims: Record<string, unknown> = { [userClaim === "" ? "sub" : userClaim]: TAIL_USER };
    if (audience !== "") claims.aud = audience;
    if (issuer !== "") claims.iss = issuer;
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const signed = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}`;
    return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
  }

  private track(res: ServerResponse): void {
    this.open.add(res);
    this.heartbeat ??= setInterval(() => {
      for (const stream of this.open) stream.write(NEWLINE);
    }, HEARTBEAT_MS).unref();
  }

  private untrack(res: ServerResponse): void {
    this.open.delete(res);
    if (this.open.size === 0) this.close();
  }
}

/** Overrides of the tail's subscription: invisible to others, told of their joins and leaves. */
const UNSEEN_OBSERVER = { override: { presence: false, join_leave: false, force_push_join_leave: true } };

/** Subscribe the tail's session server-side; a refusal (unknown namespace…) is shown, then the stream ends. */
function subscribe(client: Client, channel: string, res: ServerResponse): void {
  client.subscriptions.subscribeFromServer(channel, UNSEEN_OBSERVER).catch((err: unknown) => {
    const { code = 100, message = "internal server error" } = err as { code?: number; message?: string };
    res.write(`${JSON.stringify({ error: { code, message } })}\n`);
    client.onTransportClosed();
  });
}

/**
 * The session's write-only pipe into the HTTP response. It watches the replies only until the connect reply
 * (id 1) arrived: then the session is subscribed, or, if connect failed, closed.
 */
class TailTransport implements Transport {
  readonly name = TAIL_TRANSPORT;
  readonly protocol = "json";
  readonly appLevelPing = false;
  onConnected: () => void = () => {};
  private connecting = true;

  constructor(private readonly res: ServerResponse) {}

  get bufferedAmount(): number {
    return this.res.writableLength;
  }

  write(frame: Uint8Array): void {
    if (this.res.writableEnded) return;
    this.res.write(frame);
    this.res.write(NEWLINE);
    if (this.connecting) this.watchConnect(frame);
  }

  close(disconnect: Disconnect): void {
    if (this.res.writableEnded) return;
    this.res.end(`${JSON.stringify({ disconnect: { code: disconnect.code, reason: disconnect.reason } })}\n`);
  }

  private watchConnect(frame: Uint8Array): void {
    for (const line of Buffer.from(frame).toString("utf8").split("\n")) {
      const reply = JSON.parse(line) as { id?: number; connect?: unknown; error?: unknown };
      if (reply.id !== 1) continue;
      this.connecting = false;
      if (reply.connect !== undefined) this.onConnected();
      else this.res.end();
    }
  }
}
