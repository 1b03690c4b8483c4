/**
 * A V8 CPU profile of a server over a chosen window only (not its start-up or the clients' connects, as
 * `node --cpu-prof` would include): the server runs with `--inspect` on a known port, and the bench starts and
 * stops the profiler over the inspector protocol (Chrome DevTools Protocol, `Profiler` domain).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";

/** The `node` flag that lets `WindowProfiler.start` reach the server on `port`. */
export function inspectFlag(port: number): string {
  return `--inspect=127.0.0.1:${port}`;
}

/** One inspector session profiling a process from `start` until `stopTo`. */
export class WindowProfiler {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      if (message.id === undefined) return;
      this.waiting.get(message.id)?.(message.result);
      this.waiting.delete(message.id);
    });
  }

  /** Attach to the process listening for the inspector on `port` and start sampling every `intervalUs`. */
  static async start(port: number, intervalUs = 1000): Promise<WindowProfiler> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const url = targets[0]?.webSocketDebuggerUrl;
    if (url === undefined) throw new Error(`no inspector target on port ${port}`);
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    const profiler = new WindowProfiler(socket);
    await profiler.call("Profiler.enable");
    await profiler.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await profiler.call("Profiler.start");
    return profiler;
  }

  /** Stop sampling and write the profile (`.cpuprofile`, as DevTools reads it) to `dir/name`. */
  async stopTo(dir: string, name: string): Promise<string> {
    const { profile } = (await this.call("Profiler.stop")) as { profile: unknown };
    this.socket.close();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  }

  private call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    const answered = new Promise<unknown>((resolve) => this.waiting.set(id, resolve));
    this.socket.send(JSON.stringify({ id, method, params }));
    return answered;
  }
}
