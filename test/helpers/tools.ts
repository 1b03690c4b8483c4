/**
 * A suite's skip reason when a tool it needs is missing here. Outside CI the suite skips with that reason; in CI
 * (`CI=true`, as `.ci/run` runs) a missing tool fails the run naming it, so that a broken install never passes
 * as a green run with skips.
 */
export function toolMissing(reason: string | false): string | false {
  if (reason !== false && process.env.CI === "true")
    throw new Error(`CI must have every test tool: ${reason}`);
  return reason;
}
