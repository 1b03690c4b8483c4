import WebSocket from "ws";

/** A JSON protocol message as the server writes it (a Reply). */
export type RawReply = Record<string, unknown> & { id?: number; error?: { code: number; message: string } };

/** How the server closed the socket. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * A bare `ws` socket speaking the JSON client protocol by hand, for exact checks of what the server writes
 * and when it closes: every reply and push is recorded, and `closed` resolves with the close frame.
 */
export class RawClient {
  readonly replies: RawReply[] = [];
  readonly closed: Promise<CloseInfo>;
  private nextId = 1;
  private waiters: { match: (reply: RawReply) => boolean; resolve: (reply: RawReply) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on("error", () => {});
    ws.on("message", (data) => {
      for (const line of data.toString().split("\n")) {
        if (line !== "") this.record(JSON.parse(line) as RawReply);
      }
    });
  }

  /** Open a JSON-protocol socket to `url`. */
  static open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url, "centrifuge-json");
    const client = new RawClient(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    });
  }

  /** Send one command as is (no id is added): `{}` is a pong. */
  send(command: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(command));
  }

  /** Send a command with the next id and wait for its reply. */
  call(command: Record<string, unknown>): Promise<RawReply> {
    const id = this.nextId++;
    const reply = this.next((r) => r.id === id);
    this.send({ id, ...command });
    return reply;
  }

  /** `connect` with a token; rejects if the server answers with an error. */
  async connect(token: string): Promise<RawReply> {
    const reply = await this.call({ connect: { token, name: "raw" } });
    if (reply.error !== undefined) throw new Error(`connect error ${reply.error.code}`);
    return reply;
  }

  /** The first reply (already received or future) matching `match`. */
  next(match: (reply: RawReply) => boolean): Promise<RawReply> {
    const seen = this.replies.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Close from our side and wait until the socket is gone. */
  async terminate(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await this.closed;
  }

  private record(reply: RawReply): void {
    this.replies.push(reply);
    const ready = this.waiters.filter((w) => w.match(reply));
    this.waiters = this.waiters.filter((w) => !w.match(reply));
    for (const waiter of ready) waiter.resolve(reply);
  }
}

/** Whether a JSON reply is a server ping (an empty Reply). */
export function isPing(reply: RawReply): boolean {
  return Object.keys(reply).length === 0;
}
