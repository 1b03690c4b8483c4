/**
 * What a worker's engine and the primary's shared memory engine say to each other over node:cluster's IPC
 * channel. The channel uses "advanced" serialization (the structured clone algorithm), so calls, replies,
 * client infos and their `Uint8Array` fields cross as they are, with no encoding of ours; publications, the
 * bulk of the traffic, cross packed (publication.ts).
 */
import type { ProtocolType } from "../../protocol/codec.js";
import type { ClientInfo, HistoryOptions, PublishOptions, SurveyList } from "../types.js";
import type { PackedPublication } from "./publication.js";

/** One side of the channel: `process` in a worker, a `cluster.Worker` in the primary. */
export interface IpcPort {
  send(message: IpcMessage): void;
}

/** The engine methods a worker calls in the primary, with their arguments. */
export interface IpcOperations {
  subscribe: [channels: string[]];
  unsubscribe: [channels: string[]];
  publish: [channel: string, data: Uint8Array, options: PublishOptions];
  publishJoin: [channel: string, info: ClientInfo];
  publishLeave: [channel: string, info: ClientInfo];
  history: [channel: string, options: HistoryOptions];
  removeHistory: [channel: string];
  addPresence: [channel: string, clientId: string, info: ClientInfo];
  removePresence: [channel: string, clientId: string, user: string];
  presence: [channel: string];
  presenceStats: [channel: string];
  publishControl: [data: Uint8Array];
  acquireUserConnection: [user: string, limit: number];
  /** Sent as a notice (id 0): nothing waits for it. */
  releaseUserConnection: [user: string];
  /** Sent as a notice: from now on this worker wants publications' pushes encoded for `protocol`. */
  encodePushes: [protocol: ProtocolType];
  nodeInfo: [];
  channelCounts: [];
}

export type IpcOperation = keyof IpcOperations;

/** A call from a worker, answered by one reply with the same id; a notice (id 0) gets none. */
export interface IpcCall<K extends IpcOperation = IpcOperation> {
  turbine: "call";
  id: number;
  op: K;
  args: IpcOperations[K];
}

/** A call's outcome: `value`, or `error` (a client error keeps its code, so 112 stays 112). */
export interface IpcReply {
  turbine: "reply";
  id: number;
  value?: unknown;
  error?: { message: string; code?: number };
}

/** What the primary pushes to the workers that subscribed the channel (or to every worker: control). */
export type IpcEvent =
  | {
      turbine: "publication";
      channel: string;
      pub: PackedPublication;
      /** The push for bidirectional clients of each protocol this worker asked for, as a latin1 string. */
      json?: string;
      protobuf?: string;
    }
  | { turbine: "join" | "leave"; channel: string; info: ClientInfo }
  | { turbine: "control"; data: Uint8Array }
  /** The primary asks every worker for its live figures; each answers with {@link IpcFigures}. */
  | { turbine: "survey"; id: number; list: SurveyList };

/** A worker's answer to a survey. */
export interface IpcFigures {
  turbine: "figures";
  id: number;
  figures: PackedFigures;
}

/**
 * A worker's figures as they cross: its list as JSON text, which crosses as one string (a list of 100,000
 * entries as an array costs about twice as much to serialize and read back).
 */
export interface PackedFigures {
  numClients: number;
  numSubs: number;
  users?: string;
  channels?: string;
}

export type IpcMessage = IpcCall | IpcReply | IpcEvent | IpcFigures;

/** What a worker sends the primary. */
export type IpcFromWorker = IpcCall | IpcFigures;
