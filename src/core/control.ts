/**
 * Control messages between Turbine nodes, JSON with byte fields as base64. Not Centrifugo's Protobuf control
 * format: a cluster runs Turbine nodes only. Every message names its sender, so a node skips its own
 * broadcasts (it acts on its own connections directly).
 */
import type { NodeMetricsSnapshot } from "./metrics.js";
import type { UserRefreshOptions, UserSubscribeOptions, UserTarget } from "./node.js";

/** What a node announces about itself every few seconds. */
export interface NodeAnnouncement {
  uid: string;
  name: string;
  version: string;
  numClients: number;
  numUsers: number;
  numChannels: number;
  numSubs: number;
  uptime: number;
  /** Present when the node's metrics snapshot changed since its last announcement; the others keep the last. */
  metrics?: NodeMetricsSnapshot;
  /** Local subscriber count of every channel with at least one, for the server API `channels`. */
  channels: [string, number][];
}

export type ControlCommand =
  | { type: "node"; node: NodeAnnouncement }
  | { type: "shutdown" }
  | { type: "subscribe"; user: string; channel: string; options: UserSubscribeOptions }
  | { type: "unsubscribe"; user: string; channel: string; target: UserTarget }
  | {
      type: "disconnect";
      user: string;
      code: number;
      reason: string;
      target: UserTarget & { whitelist?: string[] };
    }
  | { type: "refresh"; user: string; options: UserRefreshOptions }
  /** Client commands posted to `/emulation` on another node, for the session `to` holds. */
  | { type: "emulation"; to: string; session: string; data: Uint8Array };

/** A command and the uid of the node that sent it. */
export type ControlMessage = ControlCommand & { from: string };

const BYTES = "$bytes";

export function encodeControl(message: ControlMessage): Uint8Array {
  // The holder's own value, not `value`: JSON.stringify hands a Buffer over already turned by its toJSON.
  const json = JSON.stringify(message, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    return raw instanceof Uint8Array ? { [BYTES]: Buffer.from(raw).toString("base64") } : value;
  });
  return new TextEncoder().encode(json);
}

/** Throws on anything that is not a control message (a foreign node on the same prefix, garbage). */
export function decodeControl(data: Uint8Array): ControlMessage {
  const parsed: unknown = JSON.parse(new TextDecoder().decode(data), (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && BYTES in value) {
      const encoded = (value as Record<string, unknown>)[BYTES];
      if (typeof encoded === "string") return new Uint8Array(Buffer.from(encoded, "base64"));
    }
    return value;
  });
  if (typeof parsed !== "object" || parsed === null) throw new Error("control message is not an object");
  const { type, from, node } = parsed as Record<string, unknown>;
  if (typeof type !== "string" || typeof from !== "string") throw new Error("control message without type");
  if (type === "node" && !Array.isArray((node as Partial<NodeAnnouncement> | undefined)?.channels))
    throw new Error("node announcement without channels");
  if (type === "node" && !isMetrics((node as Partial<NodeAnnouncement>).metrics))
    throw new Error("node announcement with malformed metrics");
  return parsed as ControlMessage;
}

/** Absent, or an interval with items that are all numbers: what `info` can put in a NodeResult. */
function isMetrics(metrics: unknown): boolean {
  if (metrics === undefined) return true;
  if (typeof metrics !== "object" || metrics === null) return false;
  const { interval, items } = metrics as Partial<NodeMetricsSnapshot>;
  return (
    typeof interval === "number" &&
    typeof items === "object" &&
    items !== null &&
    Object.values(items).every((value) => typeof value === "number")
  );
}
