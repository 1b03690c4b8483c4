/**
 * The load generator's two halves: subscribers (WebSocket connections opened through an adapter, each
 * subscribed to one channel) and a publisher (HTTP POSTs to the server's publish endpoint, stamped so the
 * tracker can match deliveries).
 */
import { Agent, request } from "node:http";
import WebSocket from "ws";
import type { Adapter } from "./adapters.js";
import { type Subscriber, type Tracker, stampedData } from "./tracker.js";

/** Channel names by index. */
export function channelName(index: number): string {
  return `ch${index}`;
}

interface Connection extends Subscriber {
  readonly ws: WebSocket;
}

/** Open sockets of one scenario. */
export class Subscribers {
  private readonly connections: Connection[] = [];
  /** Connections the server closed while the scenario ran. */
  dropped = 0;

  constructor(
    private readonly adapter: Adapter,
    private readonly port: number,
    private readonly tracker: Tracker | undefined,
  ) {}

  /**
   * Open `count` connections, connection i subscribed to channel `channelOf(i)`, at most `parallel`
   * handshakes at a time. Resolves when every subscription is active.
   */
  async open(
    count: number,
    channelOf: (i: number) => number,
    tokens: readonly string[],
    parallel = 200,
  ): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        await this.openOne(channelOf(i), tokens[i % tokens.length] ?? "");
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  }

  private openOne(channel: number, token: string): Promise<void> {
    const adapter = this.adapter;
    const name = channelName(channel);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(adapter.url(this.port), adapter.subprotocol, { perMessageDeflate: false });
      const connection: Connection = { ws, channel, position: 0 };
      let subscribed = false;
      ws.on("open", () => {
        for (const frame of adapter.open(name, token)) ws.send(frame);
      });
      ws.on("message", (frame: Buffer) => {
        if (!subscribed) {
          try {
            const step = adapter.handshake(frame, name);
            for (const reply of step.send) ws.send(reply);
            if (step.subscribed) {
              subscribed = true;
              this.connections.push(connection);
              resolve();
            }
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
            ws.terminate();
          }
          return;
        }
        this.tracker?.scan(connection, frame);
        const pong = adapter.pong(frame);
        if (pong !== undefined) ws.send(pong);
      });
      ws.on("close", () => {
        if (subscribed) this.dropped++;
        else reject(new Error(`${adapter.name}: connection closed before subscribing`));
      });
      ws.on("error", () => undefined);
    });
  }

  get count(): number {
    return this.connections.length;
  }

  /** Close every connection (without close handshakes: the next scenario should not wait for them). */
  close(): void {
    for (const { ws } of this.connections) {
      ws.removeAllListeners("close");
      ws.terminate();
    }
    this.connections.length = 0;
  }
}

/** POSTs stamped publishes over a keep-alive pool of at most `sockets` connections. */
export class Publisher {
  private readonly agent: Agent;
  private readonly padding: string;

  constructor(
    private readonly adapter: Adapter,
    private readonly port: number,
    private readonly tracker: Tracker,
    payloadBytes: number,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
    // The stamp and JSON around the padding take about 30 bytes of the payload size.
    this.padding = "x".repeat(Math.max(0, payloadBytes - 30));
  }

  /** Publish to `channel`; resolves when the server has answered (and, with `untilDelivered`, all got it). */
  publish(channel: number, untilDelivered = false): Promise<void> {
    return new Promise((resolve) => {
      let answered = false;
      let delivered = !untilDelivered;
      const id = this.tracker.sent(channel, () => {
        delivered = true;
        if (answered) resolve();
      });
      const body = `{"channel":"${channelName(channel)}","data":${stampedData(id, this.padding)}}`;
      const done = (ok: boolean): void => {
        answered = true;
        this.tracker.acked(id, channel, ok);
        if (delivered || !ok) resolve();
      };
      const req = request(
        {
          host: "127.0.0.1",
          port: this.port,
          path: this.adapter.publishPath,
          method: "POST",
          agent: this.agent,
          headers: {
            ...this.adapter.publishHeaders,
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => done(res.statusCode === 200 && !Buffer.concat(chunks).includes('"error"')));
          res.on("error", () => done(false));
        },
      );
      req.on("error", () => done(false));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
