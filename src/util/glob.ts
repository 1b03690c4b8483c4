/**
 * Glob patterns with gobwas/glob semantics (used by Centrifugo for `allowed_origins` in
 * `internal/origin/origin.go` and by the `channels` API pattern): `*` any run of characters, `?` one
 * character, `[abc]`, `[a-z]`, `[!abc]`, `{alt1,alt2}` (nestable), and `\` escaping the next character.
 * Characters are UTF-16 code units and no separator is special.
 *
 * Patterns compile to a small nondeterministic automaton that is run over the input once, tracking every
 * reachable state at each position (Thompson's construction), so a match costs O(input × pattern) at
 * worst. A backtracking matcher (a RegExp) costs up to input^k for k stars: seconds for a 4 KB Origin header
 * against `https://*.*.*.example.com`.
 */
export interface Glob {
  /** Whether the whole of `input` matches the pattern. */
  test(input: string): boolean;
}

/** Braces nested deeper than this are refused: parsing and compiling recurse once per level. */
const MAX_NESTING = 1000;

/**
 * Compile a glob pattern. Throws Error for an unclosed `[` or `{`, a range out of order (`[z-a]`) and braces
 * nested more than {@link MAX_NESTING} deep.
 */
export function compileGlob(pattern: string): Glob {
  const sequence = new Parser(pattern).sequence(false);
  const segments = starSegments(sequence);
  return segments === undefined ? new Automaton(sequence) : new StarMatcher(segments);
}

/** One code unit matched by inclusive ranges `[lo0, hi0, lo1, hi1, …]`, or by anything outside them. */
interface UnitClass {
  readonly kind: "unit";
  readonly ranges: readonly number[];
  readonly negated: boolean;
}

type Term =
  | UnitClass
  | { readonly kind: "star" }
  | { readonly kind: "alternatives"; readonly branches: readonly Term[][] };

const ANY: UnitClass = { kind: "unit", ranges: [], negated: true };
const STAR: Term = { kind: "star" };

function literal(unit: number): UnitClass {
  return { kind: "unit", ranges: [unit, unit], negated: false };
}

/** The literal runs between stars (`chat:*` → ["chat:", ""]), or undefined when the pattern has more than that. */
function starSegments(terms: readonly Term[]): string[] | undefined {
  const segments: string[] = [""];
  for (const term of terms) {
    if (term.kind === "star") segments.push("");
    else if (
      term.kind === "unit" &&
      !term.negated &&
      term.ranges.length === 2 &&
      term.ranges[0] === term.ranges[1]
    ) {
      segments[segments.length - 1] += String.fromCharCode(term.ranges[0] as number);
    } else return undefined;
  }
  return segments;
}

/**
 * The common patterns (literals and `*` only, as `chat:*` or `https://*.example.com`), matched without the
 * automaton: the first run is a prefix, the last a suffix, and each run between is found at its leftmost place
 * after the previous one. Leftmost is never worse for the runs that follow, so the greedy search is exact, and
 * it costs O(input × pattern) at worst (each `indexOf`), never more.
 */
class StarMatcher implements Glob {
  constructor(private readonly segments: readonly string[]) {}

  test(input: string): boolean {
    const segments = this.segments;
    const first = segments[0] as string;
    if (segments.length === 1) return input === first;
    const last = segments[segments.length - 1] as string;
    if (input.length < first.length + last.length || !input.startsWith(first) || !input.endsWith(last)) {
      return false;
    }
    let from = first.length;
    const end = input.length - last.length;
    for (let i = 1; i < segments.length - 1; i++) {
      const segment = segments[i] as string;
      const at = input.indexOf(segment, from);
      if (at === -1 || at + segment.length > end) return false;
      from = at + segment.length;
    }
    return true;
  }
}

/** Recursive descent over the pattern; `{` opens a nested sequence of branches until its `}`. */
class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly pattern: string) {}

  /** Terms up to the end of the pattern, or (inside braces) up to an unconsumed `,` or `}`. */
  sequence(inBraces: boolean): Term[] {
    const terms: Term[] = [];
    const p = this.pattern;
    while (this.pos < p.length) {
      const ch = p.charAt(this.pos);
      if (inBraces && (ch === "," || ch === "}")) return terms;
      this.pos++;
      terms.push(this.term(ch));
    }
    if (inBraces) throw new Error(`unclosed "{" in glob pattern ${JSON.stringify(p)}`);
    return terms;
  }

  /** The term that starts with `ch` (already consumed). Outside braces `,` and `}` are literal. */
  private term(ch: string): Term {
    const p = this.pattern;
    if (ch === "\\" && this.pos < p.length) return literal(p.charCodeAt(this.pos++));
    if (ch === "*") return STAR;
    if (ch === "?") return ANY;
    if (ch === "[") return this.characterClass();
    if (ch === "{") return this.alternatives();
    return literal(ch.charCodeAt(0));
  }

  private alternatives(): Term {
    if (++this.depth > MAX_NESTING) throw new Error(`"{" nested too deeply in glob pattern`);
    const branches = [this.sequence(true)];
    while (this.pattern.charAt(this.pos++) === ",") branches.push(this.sequence(true));
    this.depth--;
    return { kind: "alternatives", branches };
  }

  /** `[…]` up to the first `]` (no escapes inside); `!` first negates; `x-y` is a range of code units. */
  private characterClass(): UnitClass {
    const p = this.pattern;
    const end = p.indexOf("]", this.pos);
    if (end === -1) throw new Error(`unclosed "[" in glob pattern ${JSON.stringify(p)}`);
    const negated = p.charAt(this.pos) === "!";
    const ranges: number[] = [];
    let i = negated ? this.pos + 1 : this.pos;
    while (i < end) {
      const isRange = i + 2 < end && p.charAt(i + 1) === "-";
      const lo = p.charCodeAt(i);
      const hi = isRange ? p.charCodeAt(i + 2) : lo;
      if (hi < lo) throw new Error(`range out of order in glob pattern ${JSON.stringify(p)}`);
      ranges.push(lo, hi);
      i += isRange ? 3 : 1;
    }
    this.pos = end + 1;
    return { kind: "unit", ranges, negated };
  }
}

const ACCEPT = 0;
const UNIT = 1;
const STAR_STATE = 2;
const FORK = 3;

function inClass(c: UnitClass, unit: number): boolean {
  const r = c.ranges;
  for (let i = 0; i < r.length; i += 2) {
    if (unit >= (r[i] as number) && unit <= (r[i + 1] as number)) return !c.negated;
  }
  return c.negated;
}

/**
 * The automaton, in flat arrays so that a match allocates nothing. A state consumes one unit of a class
 * (UNIT), consumes any unit and stays (STAR_STATE, which may also be left without consuming), forks without
 * consuming (FORK), or accepts (ACCEPT, state 0).
 */
class Automaton implements Glob {
  private readonly kinds: number[] = [ACCEPT];
  private readonly nexts: number[] = [-1];
  private readonly classes: (UnitClass | undefined)[] = [undefined];
  private readonly forks: (readonly number[] | undefined)[] = [undefined];
  private readonly start: number;
  /** The live states before and after the current input unit, and the closure's work stack. */
  private current: Int32Array;
  private following: Int32Array;
  private readonly stack: Int32Array;
  /** Per state, the step at which it was last added: set membership without clearing between steps. */
  private readonly seen: Uint32Array;
  private step = 0;

  constructor(sequence: readonly Term[]) {
    this.start = this.compile(sequence, ACCEPT);
    const n = this.kinds.length;
    this.current = new Int32Array(n);
    this.following = new Int32Array(n);
    this.stack = new Int32Array(n);
    this.seen = new Uint32Array(n);
  }

  /** States for `terms` followed by state `next`, built back to front; returns the first state. */
  private compile(terms: readonly Term[], next: number): number {
    for (let i = terms.length - 1; i >= 0; i--) {
      const term = terms[i] as Term;
      if (term.kind === "alternatives") {
        const starts = term.branches.map((branch) => this.compile(branch, next));
        next = this.add(FORK, -1, undefined, starts);
      } else if (term.kind === "star") {
        next = this.add(STAR_STATE, next);
      } else {
        next = this.add(UNIT, next, term);
      }
    }
    return next;
  }

  private add(kind: number, next: number, unit?: UnitClass, fork?: readonly number[]): number {
    this.kinds.push(kind);
    this.nexts.push(next);
    this.classes.push(unit);
    this.forks.push(fork);
    return this.kinds.length - 1;
  }

  test(input: string): boolean {
    this.nextStep();
    let live = this.enter(this.following, 0, this.start);
    for (let i = 0; i < input.length && live > 0; i++) {
      [this.current, this.following] = [this.following, this.current];
      live = this.advance(live, input.charCodeAt(i));
    }
    for (let k = 0; k < live; k++) if (this.following[k] === ACCEPT) return true;
    return false;
  }

  /** Fill `following` with the states reached from the `live` states of `current` by consuming `unit`. */
  private advance(live: number, unit: number): number {
    this.nextStep();
    let count = 0;
    for (let k = 0; k < live; k++) {
      const id = this.current[k] as number;
      const kind = this.kinds[id];
      if (kind === STAR_STATE) count = this.enter(this.following, count, id);
      else if (kind === UNIT && inClass(this.classes[id] as UnitClass, unit)) {
        count = this.enter(this.following, count, this.nexts[id] as number);
      }
    }
    return count;
  }

  /**
   * Append to `out` (holding `count` states) the consuming and accepting states reachable from `from`
   * without consuming input, each once per step: forks are followed, and a `*` may also match nothing.
   * Iterative, so long patterns cannot overflow the call stack. Returns the new count.
   */
  private enter(out: Int32Array, count: number, from: number): number {
    let top = this.push(0, from);
    while (top > 0) {
      const id = this.stack[--top] as number;
      const kind = this.kinds[id];
      if (kind === FORK) {
        for (const next of this.forks[id] as readonly number[]) top = this.push(top, next);
        continue;
      }
      out[count++] = id;
      if (kind === STAR_STATE) top = this.push(top, this.nexts[id] as number);
    }
    return count;
  }

  /** Push `id` unless it was already added in this step; marking on push bounds the stack by the states. */
  private push(top: number, id: number): number {
    if (this.seen[id] === this.step) return top;
    this.seen[id] = this.step;
    this.stack[top] = id;
    return top + 1;
  }

  private nextStep(): void {
    if (this.step === 0xffffffff) {
      this.seen.fill(0);
      this.step = 0;
    }
    this.step++;
  }
}
