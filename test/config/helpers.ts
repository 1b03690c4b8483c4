/** Helpers of the config tests: temp config files and loading that expects failure. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, type LoadOptions, type LoadResult, loadConfig } from "../../src/config/index.js";

const root = mkdtempSync(join(tmpdir(), "turbine-config-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));

/** Writes `content` (an object as JSON, or text as is) to a fresh temp file named `name`; returns its path. */
export function tempFile(name: string, content: unknown): string {
  const path = join(mkdtempSync(join(root, "case-")), name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** Loads with an empty environment (unless given) and no default file lookup. */
export function load(options: LoadOptions = {}): LoadResult {
  return loadConfig({ file: "", env: {}, ...options });
}

/** Loads a JSON config given as an object. */
export function loadObject(config: unknown, options: LoadOptions = {}): LoadResult {
  return load({ file: tempFile("config.json", config), ...options });
}

/** Asserts that loading fails, and returns the problems. */
export function problemsOf(options: LoadOptions): readonly string[] {
  try {
    loadConfig({ file: "", env: {}, ...options });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  return assert.fail("expected loading to fail");
}

/** Asserts that some problem starts with `path:` and contains `reason`. */
export function assertProblem(problems: readonly string[], path: string, reason: string): void {
  const found = problems.some((p) => p.startsWith(`${path}`) && p.includes(reason));
  assert.ok(found, `no problem "${path}: …${reason}…" in:\n  ${problems.join("\n  ")}`);
}

/** `warnings` without the ones about keys Turbine does not serve (support.test.ts covers those). */
export function withoutUnserved(warnings: readonly string[]): string[] {
  return warnings.filter((w) => !w.includes(": not supported by Turbine, "));
}
