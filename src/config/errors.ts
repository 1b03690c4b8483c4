/** Thrown by `loadConfig` when the configuration can't be used; lists every problem found. */
export class ConfigError extends Error {
  /** Each problem as `key.path: reason` (or `file: reason` for unreadable files). */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
