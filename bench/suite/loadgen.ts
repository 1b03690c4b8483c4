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
  /** Its index when opened: connection i subscribes channel i % channels. */
  readonly index: number;
}

/**
 * The open subscribers of one server. Connection i is subscribed to channel `i % channels`; a scenario asks
 * for a count and a channel spread, and gets the connections already open when they fit (the rest closed),
 * so scenarios that need the same spread do not pay for connecting again.
 */
export class Subscribers {
  private connections: Connection[] = [];
  private channels = 0;
  private tracker: Tracker | undefined;
  /** Connections the server closed. */
  dropped = 0;

  constructor(
    private readonly adapter: Adapter,
    private readonly port: number,
    private readonly tokens: readonly string[],
  ) {}

  /**
   * Have exactly `count` connections spread over `channels` channels, delivering to `tracker`. Resolves with
   * the seconds spent connecting (0 when the open connections were reused).
   */
  async ensure(count: number, channels: number, tracker: Tracker, parallel = 200): Promise<number> {
    this.tracker = tracker;
    if (this.channels === channels && this.connections.length >= count) {
      const extra = this.connections.filter((c) => c.index >= count);
      this.connections = this.connections.filter((c) => c.index < count);
      for (const c of this.connections) c.position = 0;
      terminate(extra);
      return 0;
    }
    this.close();
    this.channels = channels;
    const started = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        await this.openOne(i, i % channels);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
    return (performance.now() - started) / 1000;
  }

  private openOne(index: number, channel: number): Promise<void> {
    const adapter = this.adapter;
    const name = channelName(channel);
    const token = this.tokens[index % this.tokens.length] ?? "";
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(adapter.url(this.port), adapter.subprotocol, { perMessageDeflate: false });
      const connection: Connection = { ws, index, channel, position: 0 };
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

  /** Close every connection. */
  close(): void {
    terminate(this.connections);
    this.connections = [];
    this.channels = 0;
  }
}

/** Close without close handshakes: the next scenario should not wait for them. */
function terminate(connections: readonly Connection[]): void {
  for (const { ws } of connections) {
    ws.removeAllListeners("close");
    ws.terminate();
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
