/** One member of a JSON object: its decoded key and the exact source text of its value. */
export interface JsonMember {
  readonly key: string;
  /** The value as written in the document, e.g. `{"a": 1}` or `12345678901234567890`, never re-serialised. */
  readonly raw: string;
}

/**
 * Lists the members of a JSON object in document order, duplicates included, each with its value's source
 * text: Centrifugo hands `info`, `data` and `meta` on byte for byte and reads integers from their literal
 * form, which `JSON.parse` alone cannot give back. Undefined when `text` is not a valid JSON object.
 */
export function objectMembers(text: string): JsonMember[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  return new MemberScanner(text).members();
}

/**
 * Walks text that `JSON.parse` has already accepted, so it only has to find boundaries, never report errors.
 */
class MemberScanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  members(): JsonMember[] {
    const found: JsonMember[] = [];
    this.skipWhitespace();
    this.pos++; // "{"
    this.skipWhitespace();
    if (this.text[this.pos] === "}") return found;
    for (;;) {
      this.skipWhitespace();
      const keyStart = this.pos;
      this.skipString();
      const key = JSON.parse(this.text.slice(keyStart, this.pos)) as string;
      this.skipWhitespace();
      this.pos++; // ":"
      this.skipWhitespace();
      const valueStart = this.pos;
      this.skipValue();
      found.push({ key, raw: this.text.slice(valueStart, this.pos) });
      this.skipWhitespace();
      if (this.text[this.pos++] === "}") return found;
    }
  }

  private skipWhitespace(): void {
    while (/[ \t\n\r]/.test(this.text[this.pos] ?? "")) this.pos++;
  }

  private skipString(): void {
    this.pos++; // opening quote
    for (;;) {
      const c = this.text[this.pos];
      this.pos += c === "\\" ? 2 : 1;
      if (c === '"') return;
    }
  }

  private skipValue(): void {
    const c = this.text[this.pos];
    if (c === '"') this.skipString();
    else if (c === "{" || c === "[") this.skipNested();
    else while (!/[\s,\]}]/.test(this.text[this.pos] ?? ",")) this.pos++;
  }

  private skipNested(): void {
    let depth = 0;
    do {
      const c = this.text[this.pos];
      if (c === '"') {
        this.skipString();
        continue;
      }
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") depth--;
      this.pos++;
    } while (depth > 0);
  }
}
