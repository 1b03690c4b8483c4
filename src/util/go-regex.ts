/**
 * Centrifugo's config patterns (`channel_regex`, `issuer_regex`, `audience_regex`) are Go RE2 syntax, compiled
 * by Go's `regexp.Compile`. This is Turbine's one translation of them into a JavaScript RegExp, so
 * `checkconfig`, start-up and token verification accept and refuse the same patterns.
 */

/** A leading RE2 flag group such as `(?i)`, which JavaScript has as regular expression flags instead. */
const LEADING_FLAGS = /^\(\?([imsU]+)\)/;
/** RE2's `(?P<name>`, not preceded by an escaping backslash. */
const PYTHON_NAMED_GROUP = /(?<!\\)((?:\\\\)*)\(\?P</g;
/**
 * An escape: RE2's one-letter Unicode class (`\pL`) or any escaped character. Escapes are matched left to
 * right, so `\\-` stays an escaped backslash followed by `-`.
 */
const ESCAPE = /\\([pP][A-Z]|.)/gs;
/** Punctuation that Unicode mode accepts escaped; RE2 accepts any escaped ASCII punctuation. */
const JS_ESCAPABLE = "^$\\.*+?()[]{}|/";
/**
 * RE2's text anchors, which JavaScript lacks: `\A` and `\z` hold at the start and end of the whole text even
 * under `(?m)`, where `^` and `$` would also hold at line breaks.
 */
const TEXT_ANCHORS: Readonly<Record<string, string>> = { A: "(?<![\\s\\S])", z: "(?![\\s\\S])" };

/**
 * Compiles a Go RE2 pattern as a JavaScript regular expression: `(?P<name>` becomes `(?<name>`, `\pL` becomes
 * `\p{L}`, escaped punctuation such as `\-` becomes a hex escape, `\A`/`\z` become lookarounds, and a leading
 * `(?i)`/`(?m)`/`(?s)` becomes a flag. Unanchored like Go's `MatchString`. Unicode mode makes `.` match a code
 * point as Go matches a rune, and makes other RE2-only syntax (`[[:alpha:]]`, `(?U)`, `\Q…\E`) fail loudly
 * instead of silently meaning something else. Throws SyntaxError for a pattern it cannot compile.
 */
export function compileGoRegex(pattern: string): RegExp {
  let source = pattern.replace(PYTHON_NAMED_GROUP, "$1(?<").replace(ESCAPE, escapeForUnicodeMode);
  let flags = "u";
  const leading = LEADING_FLAGS.exec(source);
  if (leading?.[1] !== undefined) {
    if (leading[1].includes("U")) throw new SyntaxError("flag U (ungreedy) is not supported");
    flags += [...new Set(leading[1])].join("");
    source = source.slice(leading[0].length);
  }
  return new RegExp(source, flags);
}

/** Rewrites one RE2 escape (`sequence`, `escaped` without its backslash) into what Unicode mode accepts. */
function escapeForUnicodeMode(sequence: string, escaped: string): string {
  if (escaped.length === 2) return `\\${escaped[0]}{${escaped[1]}}`;
  const anchor = TEXT_ANCHORS[escaped];
  if (anchor !== undefined) return anchor;
  const punctuation = /[!-/:-@[-`{-~]/.test(escaped) && !JS_ESCAPABLE.includes(escaped);
  return punctuation ? `\\x${escaped.charCodeAt(0).toString(16).padStart(2, "0")}` : sequence;
}
