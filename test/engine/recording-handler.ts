import type { BrokerEventHandler, ClientInfo, Publication, StreamPosition } from "../../src/engine/types.js";

/** One thing a broker handed to its handler. */
export type BrokerEvent =
  | {
      kind: "publication";
      channel: string;
      pub: Publication;
      position: StreamPosition;
      delta: boolean;
      prev?: Publication;
    }
  | { kind: "join" | "leave"; channel: string; info: ClientInfo };

type PublicationEvent = Extract<BrokerEvent, { kind: "publication" }>;

interface Waiter {
  match: (event: BrokerEvent) => boolean;
  resolve: (event: BrokerEvent) => void;
}

/**
 * Records what a broker delivers and lets a test wait for it: a networked broker delivers asynchronously, so
 * cases wait for an event rather than expecting it right after `publish` resolves.
 */
export class RecordingHandler implements BrokerEventHandler {
  readonly events: BrokerEvent[] = [];
  private waiters: Waiter[] = [];

  onPublication(
    channel: string,
    pub: Publication,
    position: StreamPosition,
    delta: boolean,
    prev?: Publication,
  ) {
    this.record({ kind: "publication", channel, pub, position, delta, prev });
  }

  onJoin(channel: string, info: ClientInfo): void {
    this.record({ kind: "join", channel, info });
  }

  onLeave(channel: string, info: ClientInfo): void {
    this.record({ kind: "leave", channel, info });
  }

  /** Publications delivered for `channel`, in delivery order. */
  publications(channel: string): PublicationEvent[] {
    return this.events.filter(
      (e): e is PublicationEvent => e.kind === "publication" && e.channel === channel,
    );
  }

  /** Resolves with the first recorded event matching `match` (past or future); rejects after `timeoutMs`. */
  waitFor(match: (event: BrokerEvent) => boolean, timeoutMs = 3000): Promise<BrokerEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching broker event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Waits for the publication on `channel` whose data reads `text`. */
  async waitForPublication(channel: string, text: string, timeoutMs?: number): Promise<PublicationEvent> {
    const event = await this.waitFor(
      (e) => e.kind === "publication" && e.channel === channel && decode(e.pub.data) === text,
      timeoutMs,
    );
    return event as PublicationEvent;
  }

  private record(event: BrokerEvent): void {
    this.events.push(event);
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.match(event)) waiter.resolve(event);
      else this.waiters.push(waiter);
    }
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Text of UTF-8 bytes; compares payloads whatever Uint8Array subclass an engine returns. */
export function decode(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : decoder.decode(bytes);
}

/** A channel name no other case (or run against a shared server) uses. */
export function uniqueChannel(label: string): string {
  return `${label}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
