/**
 * Compile-time check that resolved config sections can be handed to the core and the token verifier as they
 * are. `tsc` fails here when the schema and those interfaces drift apart.
 */
import type { TokenVerifierConfig } from "../auth/index.js";
import type {
  ChannelConfig,
  ClientConfig,
  NamespaceConfig,
  NamespaceOptions,
  RpcConfig,
} from "../core/options.js";
import type { Config } from "./schema/index.js";

type Assignable<From, To> = [From] extends [To] ? true : false;
type Expect<T extends true> = T;

/** One entry per hand-over; each must be `true`. */
export type CoreTypeChecks = [
  Expect<Assignable<Config["client"], ClientConfig>>,
  Expect<Assignable<Config["client"]["token"], TokenVerifierConfig>>,
  Expect<Assignable<Config["client"]["subscription_token"], TokenVerifierConfig & { enabled: boolean }>>,
  Expect<Assignable<Config["channel"], ChannelConfig>>,
  Expect<Assignable<Config["channel"]["without_namespace"], NamespaceOptions>>,
  Expect<Assignable<Config["channel"]["namespaces"][number], NamespaceConfig>>,
  Expect<Assignable<Config["rpc"], RpcConfig>>,
];
