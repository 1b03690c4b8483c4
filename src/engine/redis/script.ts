import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { RedisClient } from "./connection.js";

export type ScriptArg = string | Buffer | Uint8Array | number;

type Arg = string | Buffer | number;

/**
 * ioredis has EVALSHA/EVAL with Buffer replies at runtime but leaves them out of its typings; `callBuffer`
 * would do, were it not broken under auto-pipelining (the pipeline loses the command name).
 */
interface BufferScripting {
  evalshaBuffer(sha: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
  evalBuffer(source: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
}

/**
 * A Lua script run by its SHA1 (EVALSHA), falling back to EVAL once when the server does not know it yet
 * (first use, or after a Redis restart emptied the script cache). Replies come back with bulk strings as
 * Buffers, so binary payloads survive.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(
    private readonly source: string,
    private readonly numKeys: number,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Loads the script into one server's cache (SCRIPT LOAD), so that EVALSHA finds it. */
  async load(server: Redis): Promise<void> {
    await server.script("LOAD", this.source);
  }

  async run(connection: RedisClient, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    const scripting = connection as unknown as BufferScripting;
    const rest = [...keys, ...args.map(toArg)];
    try {
      return await scripting.evalshaBuffer(this.sha, this.numKeys, ...rest);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return scripting.evalBuffer(this.source, this.numKeys, ...rest);
    }
  }
}

function toArg(arg: ScriptArg): Arg {
  if (typeof arg === "string" || typeof arg === "number" || Buffer.isBuffer(arg)) return arg;
  return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
}
