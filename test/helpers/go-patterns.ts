/** Go RE2 patterns as Centrifugo's config takes them, for every place that compiles one. */

/** [Go pattern, a text Go's MatchString accepts, one it refuses] */
export const GO_PATTERNS: readonly (readonly [string, string, string])[] = [
  ["^room\\-[0-9]+$", "room-1", "room1"],
  ["^[\\w\\-\\.]+$", "a-b_c.d", "a b"],
  ["^a\\_b\\%c\\#d\\!e\\~f$", "a_b%c#d!e~f", "abcdef"],
  ["(?i)^abc$", "ABC", "abd"],
  ["(?is)^a.b$", "A\nB", "a\n\nb"],
  ["^(?P<id>[0-9]+)$", "12", "x"],
  ["^\\pL+$", "чат", "chat1"],
  ["^\\PN+$", "abc", "ab1"],
  ["^.$", "😀", "ab"],
  ["[0-9]", "abc1def", "abc"],
  ["\\Aroom\\z", "room", "room\n"],
  ["(?m)\\Aa$", "a\nb", "b\na"],
  ["^a\\\\-b$", "a\\-b", "a-b"],
];

/** Go RE2 syntax Turbine does not translate (or Go refuses too): refused rather than silently misread. */
export const GO_PATTERNS_REFUSED: readonly string[] = [
  "(",
  "^room\\-[0-9+$",
  "(?U)a+",
  "[[:alpha:]]+",
  "\\Qa.b\\E",
  "a(?i)b",
];
