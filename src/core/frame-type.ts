/**
 * The frame type of a command or reply, for the metrics labels (centrifuge client.go `dispatchCommand` picks
 * it from the command's first set field; replies carry their command's, pushes their own).
 */
import type { Command } from "../protocol/index.js";
import type { FrameType } from "./metrics.js";

/** The parts of a reply (or its init shape) that tell its type. */
interface ReplyFields {
  readonly push?: PushFields | undefined;
  readonly connect?: unknown;
  readonly subscribe?: unknown;
  readonly unsubscribe?: unknown;
  readonly publish?: unknown;
  readonly presence?: unknown;
  readonly presenceStats?: unknown;
  readonly history?: unknown;
  readonly rpc?: unknown;
  readonly refresh?: unknown;
  readonly subRefresh?: unknown;
}

interface PushFields {
  readonly pub?: unknown;
  readonly join?: unknown;
  readonly leave?: unknown;
  readonly unsubscribe?: unknown;
  readonly message?: unknown;
  readonly subscribe?: unknown;
  readonly connect?: unknown;
  readonly disconnect?: unknown;
  readonly refresh?: unknown;
}

/** A command's type; an empty command (id 0, no `send`) is the pong to a server ping. */
export function commandFrameType(command: Command): FrameType {
  if (command.id === 0 && command.send === undefined) return "client_pong";
  if (command.connect !== undefined) return "connect";
  if (command.subscribe !== undefined) return "subscribe";
  if (command.unsubscribe !== undefined) return "unsubscribe";
  if (command.publish !== undefined) return "publish";
  if (command.presence !== undefined) return "presence";
  if (command.presenceStats !== undefined) return "presence_stats";
  if (command.history !== undefined) return "history";
  if (command.rpc !== undefined) return "rpc";
  if (command.send !== undefined) return "send";
  if (command.refresh !== undefined) return "refresh";
  if (command.subRefresh !== undefined) return "sub_refresh";
  return "unknown";
}

/** A reply's type from its result field; an empty reply is the server's ping. Error replies need the command's. */
export function replyFrameType(reply: ReplyFields): FrameType {
  if (reply.push !== undefined) return pushFrameType(reply.push);
  if (reply.connect !== undefined) return "connect";
  if (reply.subscribe !== undefined) return "subscribe";
  if (reply.unsubscribe !== undefined) return "unsubscribe";
  if (reply.publish !== undefined) return "publish";
  if (reply.presence !== undefined) return "presence";
  if (reply.presenceStats !== undefined) return "presence_stats";
  if (reply.history !== undefined) return "history";
  if (reply.rpc !== undefined) return "rpc";
  if (reply.refresh !== undefined) return "refresh";
  if (reply.subRefresh !== undefined) return "sub_refresh";
  return "server_ping";
}

function pushFrameType(push: PushFields): FrameType {
  if (push.pub !== undefined) return "push_publication";
  if (push.join !== undefined) return "push_join";
  if (push.leave !== undefined) return "push_leave";
  if (push.unsubscribe !== undefined) return "push_unsubscribe";
  if (push.message !== undefined) return "push_message";
  if (push.subscribe !== undefined) return "push_subscribe";
  if (push.connect !== undefined) return "push_connect";
  if (push.disconnect !== undefined) return "push_disconnect";
  if (push.refresh !== undefined) return "push_refresh";
  return "unknown";
}
