import { defaultConfig } from "../../src/config/index.js";
import type { ChannelConfig, ClientConfig, NamespaceConfig, RpcConfig } from "../../src/core/options.js";

/** The defaults of the `client` section, from the config schema, with `overrides` on top. */
export function clientConfig(overrides: Partial<ClientConfig> = {}): ClientConfig {
  return { ...defaultConfig().client, ...overrides };
}

/** The defaults of the `rpc` section, from the config schema. */
export function rpcConfig(): RpcConfig {
  return defaultConfig().rpc;
}

/** The defaults of the `channel` section, from the config schema, with these namespaces. */
export function channelConfig(namespaces: NamespaceConfig[] = []): ChannelConfig {
  return { ...defaultConfig().channel, namespaces };
}
