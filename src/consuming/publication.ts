/**
 * Publication data mode: the message is the publication's data, and its channels, idempotency key, delta flag,
 * version, version epoch and tags are read from the message's headers, fields or attributes, under names the
 * config gives (centrifugo internal/consuming/*: `centrifugo-channels`, `centrifugo-tag-…` by default).
 */
import type { ConsumedPublication } from "./dispatcher.js";

/** Where each part of the publication is found: names of headers, fields or attributes. */
export interface PublicationKeys {
  readonly channels: string;
  readonly idempotencyKey: string;
  readonly delta: string;
  readonly version: string;
  readonly versionEpoch: string;
  readonly tagsPrefix: string;
}

/** A header (field, attribute) of a message that is not what its key expects. */
export class InvalidPropertyError extends Error {}

/** A message's named string properties. */
export interface Properties {
  get(name: string): string | undefined;
  entries(): Iterable<[string, string]>;
}

/** Go's strconv.ParseBool, which upstream reads the delta flag with. */
const BOOLS: ReadonlyMap<string, boolean> = new Map([
  ...["1", "t", "T", "TRUE", "true", "True"].map((s): [string, boolean] => [s, true]),
  ...["0", "f", "F", "FALSE", "false", "False"].map((s): [string, boolean] => [s, false]),
]);

const UINT64 = /^\d+$/;

/**
 * The channels (comma-separated; none when the property is missing or empty) and the publication of a message.
 * Throws {@link InvalidPropertyError} for a delta flag or version that does not parse.
 */
export function consumedPublication(
  data: Uint8Array,
  props: Properties,
  keys: PublicationKeys,
): { channels: string[]; publication: ConsumedPublication } {
  const read = (key: string) => (key === "" ? undefined : props.get(key));
  const channelsText = read(keys.channels) ?? "";
  const channels = channelsText === "" ? [] : channelsText.split(",");
  const deltaText = read(keys.delta);
  const delta = deltaText === undefined ? false : BOOLS.get(deltaText);
  if (delta === undefined) throw new InvalidPropertyError(`error parsing delta property "${keys.delta}"`);
  const versionText = read(keys.version);
  if (versionText !== undefined && !UINT64.test(versionText)) {
    throw new InvalidPropertyError(`error parsing version property "${keys.version}"`);
  }
  const tags: Record<string, string> = {};
  if (keys.tagsPrefix !== "") {
    for (const [name, value] of props.entries()) {
      if (name.startsWith(keys.tagsPrefix)) tags[name.slice(keys.tagsPrefix.length)] = value;
    }
  }
  return {
    channels,
    publication: {
      data,
      idempotencyKey: read(keys.idempotencyKey) ?? "",
      delta,
      tags,
      version: versionText === undefined ? 0 : Number(versionText),
      versionEpoch: read(keys.versionEpoch) ?? "",
    },
  };
}
