/**
 * Bounded waits for tests: every wait fails after a bound with a message naming what it waited for and what it
 * saw instead, so a broken build fails in seconds with a reason rather than hanging until the runner's timeout.
 * The bounds are guards against hangs, never timing checks: they are far above any expected latency.
 */

/** Default bound of a wait (ms). */
export const WAIT_MS = 10_000;

/** Describes the state observed when a wait gives up (e.g. "state: connecting"). */
export type Seen = () => string;

/**
 * Resolve with `promise`, or fail naming `what` (and `seen()`, when given) after `ms`. A rejection nobody
 * awaits stays silent: a test may prepare a wait it ends up not needing.
 */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS, seen?: Seen): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(timedOut(what, ms, seen))), ms);
    timer.unref();
  });
  const raced = Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  raced.catch(() => {});
  return raced;
}

/** Poll `check` every few milliseconds until it holds; fail naming `what` (and `seen()`) after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = WAIT_MS,
  seen?: Seen,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(timedOut(what, ms, seen));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An event source in either shape: Node's EventEmitter, the centrifuge client's emitter, `ws`. */
export interface Emitter {
  on(event: string, fn: Listener): unknown;
  off?(event: string, fn: Listener): unknown;
  removeListener?(event: string, fn: Listener): unknown;
}

type Listener = (...args: unknown[]) => void;

/**
 * The first `event` whose first argument passes `match`, within `ms`. On timeout the message names the event,
 * `what` it was for, how many `event`s arrived without matching, and the emitter's `state` when it has one
 * (centrifuge clients and subscriptions do).
 */
export function eventMatching<T>(
  emitter: Emitter,
  event: string,
  match: (value: T) => boolean,
  what: string,
  ms = WAIT_MS,
): Promise<T> {
  let others = 0;
  let listener: Listener | undefined;
  const arrived = new Promise<T>((resolve) => {
    listener = (value) => {
      if (match(value as T)) resolve(value as T);
      else others++;
    };
    emitter.on(event, listener);
  });
  const seen = () => `${others} other "${event}" events${stateOf(emitter)}`;
  return settled(within(arrived, `"${event}" (${what})`, ms, seen), () =>
    stopListening(emitter, event, listener),
  );
}

/** The first argument of the first `event`, within `ms`; `what` says what the event means to the test. */
export function nextEvent<T>(emitter: Emitter, event: string, what = "the event", ms = WAIT_MS): Promise<T> {
  return eventMatching<T>(emitter, event, () => true, what, ms);
}

/** The first arguments of the first `count` `event`s, within `ms`; on timeout says how many arrived. */
export function events<T>(emitter: Emitter, event: string, count: number, ms = WAIT_MS): Promise<T[]> {
  const items: T[] = [];
  let listener: Listener | undefined;
  const arrived = new Promise<T[]>((resolve) => {
    listener = (value) => {
      items.push(value as T);
      if (items.length === count) resolve(items);
    };
    emitter.on(event, listener);
  });
  const seen = () => `${items.length} arrived${stateOf(emitter)}`;
  return settled(within(arrived, `${count} "${event}" events`, ms, seen), () =>
    stopListening(emitter, event, listener),
  );
}

/** `promise`, after arranging `cleanup` to run once it settles (without making a rejection unhandled). */
function settled<T>(promise: Promise<T>, cleanup: () => void): Promise<T> {
  promise.then(cleanup, cleanup);
  return promise;
}

function stopListening(emitter: Emitter, event: string, listener: Listener | undefined): void {
  if (listener === undefined) return;
  if (emitter.off !== undefined) emitter.off(event, listener);
  else emitter.removeListener?.(event, listener);
}

function stateOf(emitter: Emitter): string {
  const state = (emitter as { state?: unknown }).state;
  return typeof state === "string" ? `; state: ${state}` : "";
}

function timedOut(what: string, ms: number, seen: Seen | undefined): string {
  const saw = seen === undefined ? "" : `; saw ${seen()}`;
  return `timed out after ${ms} ms waiting for ${what}${saw}`;
}
