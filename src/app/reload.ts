/**
 * Configuration reload (SIGHUP), as Centrifugo does it (centrifugo internal/app/run.go `handleSignals`): the
 * token verifiers and the channel and RPC namespace options of a freshly loaded config go into the running
 * node; every other key needs a restart.
 */
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import type { Node } from "../core/node.js";

/** The config sections a reload applies. */
export const RELOADED_SECTIONS: readonly string[] = [
  "client.token",
  "client.subscription_token",
  "channel",
  "rpc",
];

/** Keys inside those sections that are read at start only: proxies and the in-process RPC module. */
const START_ONLY: readonly string[] = ["channel.proxy", "rpc.proxy", "rpc.handlers_module"];

/** Which changed keys (dotted paths, compared with the config the server started with) a reload applied. */
export interface ReloadReport {
  /** Changed keys the node now uses. */
  applied: string[];
  /** Changed keys that take effect only after a restart. */
  needRestart: string[];
}

/**
 * Apply `next` (loaded and validated) to `node`, which was started with `started`. Throws a plain Error naming
 * the problem, keeping the node's options, when they do not compile. Logs at info that the sections were
 * reloaded, and warns about changed keys that need a restart.
 */
export function reloadServer(node: Node, started: Config, next: Config, logger: Logger): ReloadReport {
  node.reload({
    token: next.client.token,
    subscription_token: next.client.subscription_token,
    channel: next.channel,
    rpc: next.rpc,
  });
  const changed = changedKeys(started, next, "");
  const report = {
    applied: changed.filter(isReloaded),
    needRestart: changed.filter((key) => !isReloaded(key)),
  };
  logger.info({ sections: RELOADED_SECTIONS, changed: report.applied }, "configuration reloaded");
  if (report.needRestart.length > 0) {
    logger.warn({ keys: report.needRestart }, "changed configuration keys need a restart to take effect");
  }
  return report;
}

function isReloaded(key: string): boolean {
  const within = (section: string) => key === section || key.startsWith(`${section}.`);
  return RELOADED_SECTIONS.some(within) && !START_ONLY.some(within);
}

/** Paths of the values that differ, down to the first value that is not a plain object (arrays included). */
function changedKeys(before: unknown, after: unknown, path: string): string[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (!isRecord(before) || !isRecord(after)) return [path];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].flatMap((key) =>
    changedKeys(before[key], after[key], path === "" ? key : `${path}.${key}`),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
