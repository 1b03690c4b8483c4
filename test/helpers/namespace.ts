import { defaultConfig } from "../../src/config/index.js";
import type { NamespaceOptions } from "../../src/core/options.js";

/** Centrifugo's namespace defaults (everything off), from the config schema, with `overrides` on top. */
export function namespaceOptions(overrides: Partial<NamespaceOptions> = {}): NamespaceOptions {
  return { ...defaultConfig().channel.without_namespace, ...overrides };
}
