/** Helpers for the raw (not yet resolved) config tree: plain objects as parsed from files, env and flags. */

/** A plain object node of the raw tree. */
export type RawObject = Record<string, unknown>;

/** Whether `value` is a plain object (not an array, not null). */
export function isPlainObject(value: unknown): value is RawObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `parent.key`, or `key` at the root. */
export function joinPath(parent: string, key: string): string {
  return parent === "" ? key : `${parent}.${key}`;
}

/** The value at a dotted path, or undefined when any step is missing or not an object. */
export function getPath(tree: RawObject, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split(".")) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Sets the value at a dotted path, creating (or replacing non-object) intermediate nodes. */
export function setPath(tree: RawObject, path: string, value: unknown): void {
  const keys = path.split(".");
  const last = keys.pop() as string;
  let node = tree;
  for (const key of keys) {
    const next = node[key];
    if (isPlainObject(next)) {
      node = next;
    } else {
      const created: RawObject = {};
      node[key] = created;
      node = created;
    }
  }
  node[last] = value;
}

/** A short description of a raw value's type for error messages: `string "abc"`, `number 1.5`, `array`. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${value}`;
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}
