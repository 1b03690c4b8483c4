/**
 * Channel name syntax: private prefix, namespace, user-limited part, personal channels and
 * the name checks a client command goes through. Pure string work; which namespace options apply is
 * `namespaces.ts`'s job.
 */
import type { ChannelConfig } from "./options.js";

/** The `channel.*` keys that shape channel names. */
export type ChannelSyntax = Pick<
  ChannelConfig,
  "private_prefix" | "namespace_boundary" | "user_boundary" | "user_separator"
>;

/** A channel name split the way Centrifugo reads it. */
export interface ChannelName {
  readonly channel: string;
  /** Text before the first namespace boundary once the private prefix is stripped; "" = `without_namespace`. */
  readonly namespace: string;
  /**
   * What `channel_regex` is matched against: the text after the namespace boundary, or the whole channel
   * (private prefix included) when it has no boundary — both as upstream does.
   */
  readonly rest: string;
  /** Starts with `private_prefix`: subscribing needs a subscription token. */
  readonly private: boolean;
}

/** Splits `channel` into private flag, namespace name and the rest. */
export function parseChannelName(channel: string, syntax: ChannelSyntax): ChannelName {
  const prefix = syntax.private_prefix;
  const isPrivate = prefix !== "" && channel.startsWith(prefix);
  const trimmed = isPrivate ? channel.slice(prefix.length) : channel;
  const boundary = syntax.namespace_boundary;
  const at = boundary === "" ? -1 : trimmed.indexOf(boundary);
  if (at < 0) return { channel, namespace: "", rest: channel, private: isPrivate };
  return {
    channel,
    namespace: trimmed.slice(0, at),
    rest: trimmed.slice(at + boundary.length),
    private: isPrivate,
  };
}

/**
 * The users a user-limited channel names: the text after the last `user_boundary` anywhere in the channel,
 * split by `user_separator` (kept whole when the separator is ""). Null when the channel has no boundary.
 * It only limits anything in namespaces with `allow_user_limited_channels`.
 */
export function userLimitedUsers(channel: string, syntax: ChannelSyntax): string[] | null {
  const boundary = syntax.user_boundary;
  const at = boundary === "" ? -1 : channel.lastIndexOf(boundary);
  if (at < 0) return null;
  const list = channel.slice(at + boundary.length);
  return syntax.user_separator === "" ? [list] : list.split(syntax.user_separator);
}

/**
 * The personal channel of `user` (`client.subscribe_to_user_personal_channel`): `<namespace>:#<user>`, or
 * `#<user>` when `personalNamespace` is "", with the configured boundaries.
 */
export function personalChannel(user: string, personalNamespace: string, syntax: ChannelSyntax): string {
  const own = syntax.user_boundary + user;
  return personalNamespace === "" ? own : personalNamespace + syntax.namespace_boundary + own;
}

/**
 * Whether `channel` is longer than `maxLength` (`channel.max_length`; 0 = no limit). Counted in UTF-8
 * bytes, as upstream measures Go strings.
 */
export function exceedsMaxLength(channel: string, maxLength: number): boolean {
  if (maxLength <= 0) return false;
  // A UTF-16 unit takes 1–3 UTF-8 bytes, so most names are decided without encoding.
  if (channel.length > maxLength) return true;
  if (channel.length * 3 <= maxLength) return false;
  return Buffer.byteLength(channel, "utf8") > maxLength;
}

/** Whether every character of `s` is 7-bit ASCII. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}

/**
 * A channel name passes the name check when it matches its namespace's `channel_regex` (against
 * `name.rest`) or, without a regex, when it is all ASCII.
 */
export function isValidChannelName(name: ChannelName, channelRegex: RegExp | undefined): boolean {
  return channelRegex === undefined ? isAscii(name.channel) : channelRegex.test(name.rest);
}
