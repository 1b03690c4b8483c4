/**
 * A worker's engine when the workers of one Turbine share the primary's memory engine: every Broker,
 * PresenceManager and Controller method is a call to the primary, and the primary pushes the publications of
 * the channels this worker subscribed, their joins and leaves, and every control message. One shared engine
 * keeps single-node semantics across workers: one history, one offset sequence and epoch per channel, one
 * presence set, one idempotency memory. Publications come with their push encoded for each protocol this
 * worker asked for: it asks the first time it has to encode one itself.
 */
import type { ProtocolType } from "../../protocol/codec.js";
import { ClientError, ErrorUnrecoverablePosition } from "../../protocol/codes.js";
import type {
  Broker,
  BrokerEventHandler,
  ClientInfo,
  ControlHandler,
  Controller,
  EncodedPush,
  GroupNodeInfo,
  HistoryOptions,
  HistoryResult,
  PresenceManager,
  PresenceStats,
  PublishOptions,
  PublishResult,
  SurveyList,
  WorkerFigures,
  WorkerGroup,
} from "../types.js";
import type {
  IpcCall,
  IpcEvent,
  IpcMessage,
  IpcOperation,
  IpcOperations,
  IpcPort,
  IpcReply,
  PackedFigures,
} from "./messages.js";
import { bytes, unpackPublication } from "./publication.js";

/** Client errors an engine throws, by code, so that the core's identity checks hold across the channel. */
const KNOWN_ERRORS = new Map([[ErrorUnrecoverablePosition.code, ErrorUnrecoverablePosition]]);

export class IpcEngineClient {
  readonly broker: Broker;
  readonly presenceManager: PresenceManager;
  readonly controller: Controller;
  readonly workers: WorkerGroup;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private nextId = 1;
  private events: BrokerEventHandler | undefined;
  private control: ControlHandler | undefined;
  private figures: ((list: SurveyList) => WorkerFigures) | undefined;
  private gone = false;
  /** The protocols this worker asked the primary to encode pushes for. */
  private readonly asked = new Set<ProtocolType>();

  constructor(private readonly port: IpcPort) {
    this.broker = new IpcBroker(this);
    this.presenceManager = new IpcPresenceManager(this);
    this.controller = new IpcController(this);
    this.workers = new IpcWorkerGroup(this);
  }

  /** Hand over a message from the primary. */
  receive(message: IpcMessage): void {
    if (message.turbine === "reply") this.settle(message);
    else if (message.turbine !== "call" && message.turbine !== "figures") this.dispatch(message);
  }

  /** The primary is gone: calls in flight and later ones fail. */
  disconnected(): void {
    this.gone = true;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const call of pending) call.reject(new Error("engine: the primary process is gone"));
  }

  call<K extends IpcOperation>(op: K, ...args: IpcOperations[K]): Promise<unknown> {
    if (this.gone) return Promise.reject(new Error("engine: the primary process is gone"));
    const id = this.nextId++;
    const call: IpcCall<K> = { turbine: "call", id, op, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.send(call);
    });
  }

  /** A call nothing waits for: no reply comes, not even for an error. */
  notify<K extends IpcOperation>(op: K, ...args: IpcOperations[K]): void {
    if (!this.gone) this.port.send({ turbine: "call", id: 0, op, args } satisfies IpcCall<K>);
  }

  setEventHandler(handler: BrokerEventHandler): void {
    this.events = handler;
  }

  setControlHandler(handler: ControlHandler): void {
    this.control = handler;
  }

  setFigures(figures: (list: SurveyList) => WorkerFigures): void {
    this.figures = figures;
  }

  private settle(reply: IpcReply): void {
    const call = this.pending.get(reply.id);
    if (call === undefined) return;
    this.pending.delete(reply.id);
    if (reply.error === undefined) call.resolve(reply.value);
    else call.reject(errorOf(reply.error));
  }

  private dispatch(event: IpcEvent): void {
    if (event.turbine === "control") return this.control?.onControl(event.data);
    if (event.turbine === "survey") return this.answerSurvey(event.id, event.list);
    const events = this.events;
    if (events === undefined) return;
    if (event.turbine === "publication") {
      const { pub, position, delta, prev } = unpackPublication(event.pub);
      const encoded: EncodedPush = { missing: this.missing };
      if (event.json !== undefined) encoded.json = bytes(event.json);
      if (event.protobuf !== undefined) encoded.protobuf = bytes(event.protobuf);
      events.onPublication(event.channel, pub, position, delta, prev, encoded);
    } else if (event.turbine === "join") events.onJoin(event.channel, event.info);
    else events.onLeave(event.channel, event.info);
  }

  private readonly missing = (protocol: ProtocolType): void => {
    if (this.asked.has(protocol)) return;
    this.asked.add(protocol);
    this.notify("encodePushes", protocol);
  };

  /** A worker not serving yet has no clients: it answers all the same, so that no survey waits for it. */
  private answerSurvey(id: number, list: SurveyList): void {
    const { numClients, numSubs, users, channels } = this.figures?.(list) ?? { numClients: 0, numSubs: 0 };
    const figures: PackedFigures = { numClients, numSubs };
    if (users !== undefined) figures.users = JSON.stringify(users);
    if (channels !== undefined) figures.channels = JSON.stringify(channels);
    this.port.send({ turbine: "figures", id, figures });
  }
}

function errorOf({ message, code }: NonNullable<IpcReply["error"]>): Error {
  if (code === undefined) return new Error(message);
  return KNOWN_ERRORS.get(code) ?? new ClientError(code, message);
}

class IpcBroker implements Broker {
  constructor(private readonly engine: IpcEngineClient) {}

  async registerEventHandler(handler: BrokerEventHandler): Promise<void> {
    this.engine.setEventHandler(handler);
  }

  async subscribe(channels: string[]): Promise<void> {
    await this.engine.call("subscribe", channels);
  }

  async unsubscribe(channels: string[]): Promise<void> {
    await this.engine.call("unsubscribe", channels);
  }

  publish(channel: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    return this.engine.call("publish", channel, data, options) as Promise<PublishResult>;
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    await this.engine.call("publishJoin", channel, info);
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    await this.engine.call("publishLeave", channel, info);
  }

  history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    return this.engine.call("history", channel, options) as Promise<HistoryResult>;
  }

  async removeHistory(channel: string): Promise<void> {
    await this.engine.call("removeHistory", channel);
  }

  /** The engine is the primary's: a worker leaving closes nothing of it. */
  async close(): Promise<void> {}
}

class IpcPresenceManager implements PresenceManager {
  constructor(private readonly engine: IpcEngineClient) {}

  async addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    await this.engine.call("addPresence", channel, clientId, info);
  }

  async removePresence(channel: string, clientId: string, user: string): Promise<void> {
    await this.engine.call("removePresence", channel, clientId, user);
  }

  presence(channel: string): Promise<Record<string, ClientInfo>> {
    return this.engine.call("presence", channel) as Promise<Record<string, ClientInfo>>;
  }

  presenceStats(channel: string): Promise<PresenceStats> {
    return this.engine.call("presenceStats", channel) as Promise<PresenceStats>;
  }

  async close(): Promise<void> {}
}

class IpcController implements Controller {
  constructor(private readonly engine: IpcEngineClient) {}

  async registerControlHandler(handler: ControlHandler): Promise<void> {
    this.engine.setControlHandler(handler);
  }

  async publishControl(data: Uint8Array): Promise<void> {
    await this.engine.call("publishControl", data);
  }

  async close(): Promise<void> {}
}

class IpcWorkerGroup implements WorkerGroup {
  constructor(private readonly engine: IpcEngineClient) {}

  async acquireUserConnection(user: string, limit: number): Promise<boolean> {
    return (await this.engine.call("acquireUserConnection", user, limit)) as boolean;
  }

  releaseUserConnection(user: string): void {
    this.engine.notify("releaseUserConnection", user);
  }

  registerFigures(figures: (list: SurveyList) => WorkerFigures): void {
    this.engine.setFigures(figures);
  }

  nodeInfo(): Promise<GroupNodeInfo> {
    return this.engine.call("nodeInfo") as Promise<GroupNodeInfo>;
  }

  channelCounts(): Promise<[string, number][]> {
    return this.engine.call("channelCounts") as Promise<[string, number][]>;
  }
}
