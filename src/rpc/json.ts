/** JSON text of params, meta and results as the two serving modes carry them. */

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A value parsed from JSON text, or a reason why it is not JSON. */
export type Parsed = { ok: true; value: unknown } | { ok: false };

/** Params from JSON bytes or text; empty means "no params" (undefined), which the params schema judges. */
export function parseJson(data: Uint8Array | string): Parsed {
  try {
    const text = typeof data === "string" ? data : decoder.decode(data);
    return { ok: true, value: text.trim() === "" ? undefined : JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Connection meta as handlers see it: a JSON object or undefined (anything else is dropped). */
export function metaObject(meta: unknown): Record<string, unknown> | undefined {
  return typeof meta === "object" && meta !== null && !Array.isArray(meta)
    ? (meta as Record<string, unknown>)
    : undefined;
}
