/**
 * A Redis config section (`engine.redis`, `broker.redis`, `presence_manager.redis`) as a list of shards, read
 * as Centrifugo reads it (centrifugo `confighelpers.getRedisShardConfigs`): `cluster_address` wins, then
 * `sentinel_address`, then `address`. Each entry of the winning list is one shard; a cluster or Sentinel entry
 * may name several comma-separated `host:port` seeds of that one shard.
 */
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { parseHostPort, parseRedisAddress } from "./address.js";
import type { RedisConnectionOptions, RedisNodeAddress } from "./connection.js";

/** A `tls` block of the config (see the schema's `tls()`). */
export interface TlsSection {
  enabled: boolean;
  cert_pem: string;
  key_pem: string;
  server_ca_pem: string;
  insecure_skip_verify: boolean;
  server_name: string;
}

/** The keys of a Redis section this file reads; durations in ms. */
export interface RedisSection {
  address: string[];
  cluster_address: string[];
  sentinel_address: string[];
  db: number;
  user: string;
  password: string;
  connect_timeout: number;
  io_timeout: number;
  client_name: string;
  force_resp2: boolean;
  tls: TlsSection;
  sentinel_user: string;
  sentinel_password: string;
  sentinel_master_name: string;
  sentinel_tls: TlsSection;
}

/** Node TLS options of a `tls` block of the config key `key` (the config's `clientTlsOptions`). */
export type TlsOptionsOf = (section: TlsSection, key: string) => TlsOptions;

/**
 * The shards `section` (at config path `path`, e.g. "engine.redis") describes. Throws an Error whose message
 * starts with the offending key's path.
 */
export function redisShards(
  section: RedisSection,
  path: string,
  tlsOf: TlsOptionsOf,
): RedisConnectionOptions[] {
  const base: RedisConnectionOptions = {
    host: "127.0.0.1",
    port: 6379,
    db: section.db,
    user: section.user,
    password: section.password,
    connectTimeoutMs: section.connect_timeout,
    ioTimeoutMs: section.io_timeout,
    clientName: section.client_name,
    forceResp2: section.force_resp2,
  };
  const tls = section.tls.enabled ? tlsOf(section.tls, `${path}.tls`) : undefined;
  if (tls !== undefined) base.tls = tls;

  if (section.cluster_address.length > 0) {
    return section.cluster_address.map((entry) => {
      const seeds = seedList(entry, `${path}.cluster_address`);
      return { ...base, ...(seeds[0] as RedisNodeAddress), cluster: seeds };
    });
  }
  if (section.sentinel_address.length > 0) {
    if (section.sentinel_master_name === "") {
      throw new Error(`${path}.sentinel_master_name: must be set when using Redis Sentinel`);
    }
    const sentinelTls = section.sentinel_tls.enabled
      ? tlsOf(section.sentinel_tls, `${path}.sentinel_tls`)
      : undefined;
    return section.sentinel_address.map((entry) => {
      const addresses = seedList(entry, `${path}.sentinel_address`);
      return {
        ...base,
        ...(addresses[0] as RedisNodeAddress),
        sentinel: {
          addresses,
          masterName: section.sentinel_master_name,
          user: section.sentinel_user,
          password: section.sentinel_password,
          tls: sentinelTls,
        },
      };
    });
  }
  if (section.address.length === 0) return [base];
  return section.address.map((address) => {
    try {
      return parseRedisAddress(address, base);
    } catch (err) {
      throw new Error(`${path}.address: ${(err as Error).message}`, { cause: err });
    }
  });
}

function seedList(entry: string, key: string): RedisNodeAddress[] {
  try {
    return entry.split(",").map(parseHostPort);
  } catch (err) {
    throw new Error(`${key}: ${(err as Error).message}`, { cause: err });
  }
}
