/** Turbine configuration: one schema, loaded from file, env and flags the way Centrifugo v6 does. */
export { formatDuration, parseDuration } from "./duration.js";
export { ConfigError } from "./errors.js";
export { type ConfigFormat, formatOf, SUPPORTED_EXTENSIONS } from "./file.js";
export { type FlagKey, flagKeys } from "./flags.js";
export { type ClientTlsBlock, clientTlsOptions, type PemReader } from "./client-tls.js";
export { loadPem } from "./pem.js";
export { DEFAULT_CONFIG_FILE, defaultConfig, type LoadOptions, type LoadResult, loadConfig } from "./load.js";
export { renderConfig, toRawConfig } from "./render.js";
export { type Config, type Schema, schema } from "./schema/index.js";
export {
  SUPPORT,
  type Support,
  supportEntryOf,
  type SupportLevel,
  supportOf,
  type UnservedKey,
  unservedKeys,
  unservedMessage,
} from "./support.js";
export { envName, leafPaths } from "./walk.js";
