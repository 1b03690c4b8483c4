/**
 * Glob patterns with gobwas/glob semantics (used by Centrifugo for `allowed_origins` and the `channels` API
 * pattern): `*` any run of characters, `?` one character, `[abc]`, `[a-z]`, `[!abc]`, `{alt1,alt2}`, and `\`
 * escaping the next character. Compiled once into an anchored RegExp.
 */
export function compileGlob(pattern: string): RegExp {
  return new RegExp(`^${translate(pattern)}$`, "s");
}

function translate(pattern: string): string {
  let out = "";
  let alternatives = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === "\\" && i + 1 < pattern.length) {
      out += escapeRegExp(pattern.charAt(++i));
    } else if (ch === "*") {
      out += ".*";
    } else if (ch === "?") {
      out += ".";
    } else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) throw new Error(`unclosed "[" in glob pattern ${JSON.stringify(pattern)}`);
      out += characterClass(pattern.slice(i + 1, end));
      i = end;
    } else if (ch === "{") {
      alternatives++;
      out += "(?:";
    } else if (ch === "}" && alternatives > 0) {
      alternatives--;
      out += ")";
    } else if (ch === "," && alternatives > 0) {
      out += "|";
    } else {
      out += escapeRegExp(ch);
    }
  }
  if (alternatives > 0) throw new Error(`unclosed "{" in glob pattern ${JSON.stringify(pattern)}`);
  return out;
}

function characterClass(body: string): string {
  const negated = body.startsWith("!");
  const chars = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&");
  return `[${negated ? "^" : ""}${chars}]`;
}

function escapeRegExp(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
