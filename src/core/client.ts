import { randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type ConnectToken,
  InvalidTokenError,
  type SubscribeOptionsClaims,
  TokenExpiredError,
} from "../auth/index.js";
import type { ClientInfo } from "../engine/types.js";
import {
  codecFor,
  InappropriateProtocolError,
  type ProtocolCodec,
  ProtocolDecodeError,
} from "../protocol/codec.js";
import {
  ClientError,
  Disconnect,
  DisconnectBadRequest,
  DisconnectChannelLimit,
  DisconnectConnectionClosed,
  DisconnectConnectionLimit,
  DisconnectExpired,
  DisconnectInappropriateProtocol,
  DisconnectInvalidToken,
  DisconnectNoPong,
  DisconnectNotAvailable,
  DisconnectPermissionDenied,
  DisconnectServerError,
  DisconnectSlow,
  DisconnectStale,
  ErrorExpired,
  ErrorInternal,
  ErrorTokenExpired,
} from "../protocol/codes.js";
import {
  type Command,
  type ConnectRequest,
  type Push,
  PushSchema,
  type RefreshRequest,
  ReplySchema,
} from "../protocol/index.js";
import { commandFrameType, replyFrameType } from "./frame-type.js";
import type { HubClient } from "./hub.js";
import type { ClientLabels, FrameType, TransportMetrics } from "./metrics.js";
import type { Node } from "./node.js";
import type { Requester } from "./permissions.js";
import { encodePush, type PreparedPublication, type PreparedPush } from "./prepared.js";
import type { ProxyCaller } from "./proxy.js";
import { onHistory, onPresence, onPresenceStats, onPublish, onRpc } from "./channel-commands.js";
import { type PendingSubscription, Subscriptions } from "./subscriptions.js";
import { noHeaders, type Transport, type TransportRequest } from "./transport.js";
import { type DeadlineKind, type DeadlineOwner, Deadlines } from "./deadlines.js";
import { unidirectionalDisconnect } from "./unidirectional.js";
import type { CommandSession, ReplyInit } from "./session.js";
import { ClientWriter } from "./writer.js";

type State = "connecting" | "connected" | "closed";

/** The credentials a connect ends up with, from a token, the connect proxy or anonymous access. */
interface Credentials {
  user: string;
  /** Unix seconds; 0 = never expires. */
  expireAt: number;
  info?: Uint8Array;
  subs: Record<string, SubscribeOptionsClaims>;
  /** Connection meta (raw JSON), kept for proxies with `include_connection_meta`. */
  meta?: Uint8Array;
  /** Connect proxy data for the connect result. */
  data?: Uint8Array;
}

/**
 * Commands that may overlap with later ones under `client.concurrency`: those Centrifugo answers through an
 * asynchronous callback (centrifugo internal/client/handler.go). Connect, ping, pong, unsubscribe and send
 * stay in line, as centrifuge handles them in its read loop (centrifuge client.go).
 */
function overlaps(command: Command): boolean {
  return (
    command.subscribe !== undefined ||
    command.publish !== undefined ||
    command.presence !== undefined ||
    command.presenceStats !== undefined ||
    command.history !== undefined ||
    command.rpc !== undefined ||
    command.refresh !== undefined ||
    command.subRefresh !== undefined
  );
}

/** The headers among `names` (lower-case), with lower-case names; the shared empty set when none is. */
function keptHeaders(
  headers: Readonly<Record<string, string>>,
  names: ReadonlySet<string> | undefined,
): Readonly<Record<string, string>> {
  if (names === undefined || names.size === 0) return noHeaders;
  let kept: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (names.has(lower)) (kept ??= {})[lower] = value;
  }
  return kept ?? noHeaders;
}

/**
 * One client session: the connect handshake, then commands processed in arrival order (one at
 * a time, or up to `client.concurrency` at once after connect), server pings, connection expiry, and
 * everything it must undo when it closes.
 */
export class Client implements HubClient, DeadlineOwner, CommandSession {
  readonly id = randomUUID();
  /**
   * The session id sent in the connect result (centrifuge client.go `NewClient`): what `/emulation` requests
   * name, and a unidirectional connection's id; "" for other transports.
   */
  readonly session: string;
  user = "";
  /** Connection info (raw bytes, JSON for JSON clients) shown in presence and publications. */
  info: Uint8Array | undefined;
  /**
   * Connection meta from the token or the connect proxy, sent to proxies that include it and to in-process RPC
   * handlers; never to clients.
   */
  meta: Uint8Array | undefined;
  /**
   * Headers of the client's connect command that some proxy forwards (`emulated_headers`), with lower-case
   * names; the others are dropped at connect, so a big map costs nothing for the session's lifetime.
   */
  private emulatedHeaders = noHeaders;
  readonly subscriptions: Subscriptions<Client>;
  private state: State = "connecting";
  /** After a failed connect the session only waits to be closed. */
  private unusable = false;
  private expireAt = 0;
  private readonly writer: ClientWriter;
  /** The last frame's commands; the shared settled promise while none are queued. */
  private queue: Promise<void> = settled;
  private pendingFrames = 0;
  /** Commands started without waiting for their predecessors (`client.concurrency` > 1) and not yet done. */
  private running = 0;
  /** Wakes the command loop waiting for one of the `running` commands to finish. */
  private slotFreed: (() => void) | undefined;
  private idleWaiters: (() => void)[] | undefined;
  private awaitingPong = false;
  /** When the last server ping went out (performance.now() ms), for the ping-pong duration. */
  private pingSentAt = 0;
  readonly deadlines: Deadlines;
  readonly transportMetrics: TransportMetrics;
  /** Label values of this connection's metrics, as its connect command sets them. */
  labels: ClientLabels;

  constructor(
    readonly node: Node,
    readonly transport: Transport,
    readonly request: TransportRequest,
  ) {
    this.session = this.unidirectional || transport.emulation === true ? randomUUID() : "";
    this.writer = new ClientWriter(
      transport,
      this.codec,
      node.flushes,
      node.options.client.queue_max_size,
      this,
    );
    this.subscriptions = new Subscriptions<Client>(this, node);
    this.deadlines = new Deadlines(node.wheel, this);
    this.transportMetrics = node.metrics.transport(transport.name);
    this.labels = sharedLabels(transport.name, "unnamed", "unversioned");
    this.deadlines.set("stale", node.options.client.stale_close_delay);
  }

  /** Derived from the transport rather than kept: every field costs each connection 8 bytes. */
  get codec(): ProtocolCodec {
    return codecFor(this.transport.protocol);
  }

  /** The transport only pushes (see `Transport.unidirectional`). */
  get unidirectional(): boolean {
    return this.transport.unidirectional === true;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  /** This connection's identity in presence, join/leave and publications. */
  clientInfo(chanInfo?: Uint8Array): ClientInfo {
    return { user: this.user, client: this.id, connInfo: this.info, chanInfo };
  }

  /**
   * Feed one frame read from the transport. Commands start in order; each waits for the previous one to finish
   * unless `client.concurrency` lets it overlap (see `startOverlapping`).
   * @returns how many frames are waiting, so the transport can stop reading when the client floods.
   */
  handleFrame(frame: Uint8Array): number {
    if (this.state === "closed") return 0;
    if (this.unusable) {
      this.close(DisconnectBadRequest);
      return 0;
    }
    const { commands, malformed } = this.decode(frame);
    // An empty Protobuf frame decodes to no commands; Centrifugo closes on it as on an empty request.
    if (commands.length === 0) {
      this.close(DisconnectBadRequest);
      return 0;
    }
    // Sizes per command are not known after decoding a batch; each gets its share of the frame.
    const size = frame.byteLength / commands.length;
    for (const command of commands) this.transportMetrics.received(commandFrameType(command), size);
    this.pendingFrames++;
    this.queue = this.queue.then(async () => {
      // Awaited only when the frame must wait: the common frame costs no extra microtask.
      const turn = this.node.frameBudget.admit();
      if (turn !== undefined) await turn;
      await this.processCommands(commands);
      this.node.frameBudget.finished();
      if (malformed) this.close(DisconnectBadRequest);
    });
    return this.pendingFrames;
  }

  /** The frame's commands; when one is malformed, those before it (they still run, then 3501). */
  private decode(frame: Uint8Array): { commands: readonly Command[]; malformed: boolean } {
    try {
      return { commands: this.codec.decodeCommands(frame), malformed: false };
    } catch (err) {
      this.node.logger.info({ client: this.id, user: this.user, err }, "malformed frame from client");
      return { commands: err instanceof ProtocolDecodeError ? err.decoded : [], malformed: true };
    }
  }

  /** Resolves when every frame handed over so far has been processed, overlapping commands included. */
  whenIdle(): Promise<void> {
    if (this.pendingFrames === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idleWaiters ??= []).push(resolve));
  }

  /** The transport went away on its own. */
  onTransportClosed(): void {
    this.close(DisconnectConnectionClosed);
  }

  /**
   * Connect a unidirectional client with the request its transport read (centrifuge client.go
   * `unidirectionalConnect`); the result goes out as a `connect` push. A refused connect closes the session
   * with its disconnect (errors mapped by `unidirectionalDisconnect`), and a disconnect push when
   * the transport sends them. With `answerRefusal` the session closes silently instead (code 3000) and the
   * refusal is returned for the transport to answer itself (`connect_code_to_http_response`).
   * @returns the refusal (a ClientError or Disconnect), undefined when connected.
   */
  async connectUnidirectional(
    req: ConnectRequest,
    answerRefusal = false,
  ): Promise<ClientError | Disconnect | undefined> {
    const started = performance.now();
    let refusal: ClientError | Disconnect | undefined;
    try {
      await this.onConnect(0, req);
    } catch (err) {
      if (err instanceof ClientError || err instanceof Disconnect) refusal = err;
      else {
        this.logInternalError(err, "connect");
        refusal = ErrorInternal;
      }
      if (refusal instanceof ClientError) this.node.metrics.replyError("connect", refusal.code);
      const mapping = this.node.options.client.connect_code_to_unidirectional_disconnect;
      this.close(answerRefusal ? DisconnectConnectionClosed : unidirectionalDisconnect(refusal, mapping));
    }
    this.node.metrics.command("connect", (performance.now() - started) / 1000);
    return refusal;
  }

  /** Close the session with a disconnect code; safe to call more than once. */
  close(disconnect: Disconnect): void {
    if (this.state === "closed") return;
    const wasConnected = this.state === "connected";
    this.state = "closed";
    if (this.transport.disconnectPush === true && disconnect.code !== DisconnectConnectionClosed.code) {
      this.queuePush({ disconnect: { code: disconnect.code, reason: disconnect.reason } });
    }
    this.writer.flush();
    this.writer.close();
    this.deadlines.stop();
    this.transport.close(disconnect);
    if (disconnect.code !== DisconnectConnectionClosed.code) {
      this.node.metrics.serverDisconnect(disconnect.code);
      this.transportMetrics.outgoingClose(disconnect.code);
      this.node.logger.info(
        { client: this.id, user: this.user, code: disconnect.code, reason: disconnect.reason },
        "disconnect client",
      );
    }
    if (wasConnected) {
      this.node.hub.removeClient(this);
      this.node.metrics.clientDisconnected(this.labels);
    }
    const cleanup = this.subscriptions
      .removeAll()
      .catch((err: unknown) => this.logInternalError(err, "cleanup on close"));
    this.node.sessionClosed(this, cleanup);
  }

  deliverPublication(prepared: PreparedPublication): number {
    return this.subscriptions.deliverPublication(prepared);
  }

  deliverJoinLeave(channel: string, prepared: PreparedPush): number {
    return this.subscriptions.pushesJoinLeave(channel) ? this.writeShared(prepared) : 0;
  }

  /**
   * Queue a reply (or push) for this client; `frame` is needed for error replies only. A unidirectional client
   * gets the push alone: its only replies are pings (empty), and its connect result is a push itself.
   */
  write(reply: ReplyInit, frame: FrameType = replyFrameType(reply)): void {
    if (this.state === "closed") return;
    try {
      const unit = this.unidirectional
        ? this.encodeBarePush(create(PushSchema, reply.push))
        : this.codec.encodeReply(create(ReplySchema, reply));
      this.writer.enqueue(unit);
      this.transportMetrics.sent(frame, 1, unit.byteLength);
    } catch (err) {
      if (err instanceof InappropriateProtocolError) this.close(DisconnectInappropriateProtocol);
      else throw err;
    }
  }

  /**
   * Queue a push that is shared with other clients and already encoded per protocol. The caller counts it.
   * @returns the bytes queued (0: none).
   */
  writeShared(prepared: PreparedPush): number {
    return this.writeUnit(prepared.unit(this.transport.protocol, this.unidirectional));
  }

  private encodeBarePush(push: Push): Uint8Array {
    const unit = encodePush(this.transport.protocol, true, push);
    if (unit instanceof Error) throw unit;
    return unit;
  }

  /** Queue a push while closing (the session no longer takes writes); an encoding error drops it. */
  private queuePush(push: MessageInitShape<typeof PushSchema>): void {
    const unit = encodePush(this.transport.protocol, this.unidirectional, create(PushSchema, push));
    if (unit instanceof Error) return;
    this.writer.enqueue(unit);
    this.transportMetrics.sent(replyFrameType({ push }), 1, unit.byteLength);
  }

  /**
   * Queue an encoded message; an encoding error (binary data to a JSON client) closes with 3506. The caller
   * counts it (see `Hub`).
   * @returns the bytes queued (0: none).
   */
  writeUnit(unit: Uint8Array | Error): number {
    if (this.state === "closed") return 0;
    if (unit instanceof Error) {
      this.close(DisconnectInappropriateProtocol);
      return 0;
    }
    this.writer.enqueue(unit);
    return unit.byteLength;
  }

  logInternalError(err: unknown, what: string): void {
    this.node.logger.error({ err, client: this.id, user: this.user }, `error in ${what}`);
  }

  private async processCommands(commands: readonly Command[]): Promise<void> {
    const concurrency = this.node.options.client.concurrency;
    for (const command of commands) {
      if (this.state === "closed" || this.unusable) break;
      if (concurrency > 1 && this.state === "connected" && overlaps(command))
        await this.startOverlapping(command, concurrency);
      else await this.dispatch(command);
    }
    this.pendingFrames--;
    if (this.pendingFrames === 0) this.queue = settled;
    this.notifyIdle();
  }

  /** The writer's queue outgrew `client.queue_max_size`. */
  onWriterOverflow(): void {
    this.close(DisconnectSlow);
  }

  /**
   * A frame goes out at the next flush: a ping due within a third of the interval rides in it (sent early,
   * never late), saving the socket write of its own that the ping would cost at its due time; the cadence a
   * client sees stays within [2/3, 1] of the interval. SDKs re-arm their no-ping timer on any data, and the
   * pong deadline runs from the ping actually sent (see `sendPing`). Not while a pong is awaited: Centrifugo
   * takes one pong per ping (centrifuge client.go `dispatchCommand`, an "unnecessary pong" is 3501).
   */
  onFrameStarted(): void {
    if (this.awaitingPong || this.state !== "connected") return;
    const interval = this.pingInterval;
    if (interval > 0 && this.deadlines.dueWithin("ping", interval / 3)) this.sendPing();
  }

  /**
   * Start `command` without waiting for it once fewer than `concurrency` run, as Centrifugo's per-connection
   * semaphore does (centrifugo internal/client/handler.go `runConcurrentlyIfNeeded`): while all slots are
   * taken the command loop waits here, so the frames behind it stay queued and the transport's read limit
   * still bounds the connection. A session closed meanwhile starts nothing more.
   */
  private async startOverlapping(command: Command, concurrency: number): Promise<void> {
    while (this.running >= concurrency) await new Promise<void>((resolve) => (this.slotFreed = resolve));
    if (this.state === "closed") return;
    this.running++;
    void this.dispatch(command)
      .catch((err: unknown) => this.logInternalError(err, "command"))
      .finally(() => this.overlappingDone());
  }

  private overlappingDone(): void {
    this.running--;
    const wake = this.slotFreed;
    this.slotFreed = undefined;
    wake?.();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.pendingFrames > 0 || this.running > 0 || this.idleWaiters === undefined) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  private async dispatch(command: Command): Promise<void> {
    if (this.state === "connecting" && command.connect === undefined) {
      this.close(DisconnectBadRequest);
      return;
    }
    if (command.id === 0 && command.send === undefined) {
      this.onPong();
      return;
    }
    const frame = commandFrameType(command);
    const started = performance.now();
    try {
      await this.route(command);
    } catch (err) {
      this.onCommandError(command, err, frame);
    }
    this.node.metrics.command(frame, (performance.now() - started) / 1000);
  }

  /** The first set field wins, in Centrifugo's order. */
  private route(command: Command): Promise<void> | void {
    const id = command.id;
    if (command.connect !== undefined) return this.onConnect(id, command.connect);
    if (command.ping !== undefined) return this.write({ id, ping: {} });
    if (command.subscribe !== undefined) return this.subscriptions.onSubscribe(id, command.subscribe);
    if (command.unsubscribe !== undefined) return this.subscriptions.onUnsubscribe(id, command.unsubscribe);
    if (command.publish !== undefined) return onPublish(this, this.node, id, command.publish);
    if (command.presence !== undefined) return onPresence(this, this.node, id, command.presence);
    if (command.presenceStats !== undefined)
      return onPresenceStats(this, this.node, id, command.presenceStats);
    if (command.history !== undefined) return onHistory(this, this.node, id, command.history);
    if (command.rpc !== undefined) return onRpc(this, this.node, id, command.rpc);
    if (command.send !== undefined) throw DisconnectNotAvailable;
    if (command.refresh !== undefined) return this.onRefresh(id, command.refresh);
    if (command.subRefresh !== undefined) return this.subscriptions.onSubRefresh(id, command.subRefresh);
    throw DisconnectBadRequest;
  }

  private onCommandError(command: Command, err: unknown, frame: FrameType): void {
    if (err instanceof Disconnect) {
      this.close(err);
      return;
    }
    const error = err instanceof ClientError ? err : ErrorInternal;
    if (!(err instanceof ClientError)) this.logInternalError(err, "command");
    if (command.connect !== undefined) this.unusable = true;
    this.node.metrics.replyError(frame, error.code);
    this.write(
      { id: command.id, error: { code: error.code, message: error.message, temporary: error.temporary } },
      frame,
    );
  }

  /** Any command with id 0 other than `send` counts as the pong, as in Centrifugo; one without a ping is 3501. */
  private onPong(): void {
    if (!this.awaitingPong) {
      this.close(DisconnectBadRequest);
      return;
    }
    this.awaitingPong = false;
    this.transportMetrics.pingPong((performance.now() - this.pingSentAt) / 1000);
  }

  private async onConnect(id: number, req: ConnectRequest): Promise<void> {
    if (this.state !== "connecting") throw DisconnectBadRequest;
    const options = this.node.options.client;
    this.emulatedHeaders = keptHeaders(req.headers, this.node.proxies.emulatedHeaderNames);
    const credentials = await this.authenticate(req);
    // Steps that usually decide at once return undefined rather than a promise: each await costs garbage.
    const personal = this.addPersonalChannel(credentials);
    if (personal !== undefined) await personal;
    const channels = Object.keys(credentials.subs);
    if (options.channel_limit > 0 && channels.length > options.channel_limit) throw DisconnectChannelLimit;
    const admitting = this.node.admitUserConnection(this, credentials.user);
    if (admitting !== undefined) await admitting;
    const now = this.node.wheel.now() / 1000;
    if (credentials.expireAt > 0 && credentials.expireAt < now) {
      this.node.releaseUserConnection(this);
      throw ErrorExpired;
    }

    this.user = credentials.user;
    this.info = credentials.info;
    this.meta = credentials.meta;
    this.expireAt = credentials.expireAt;
    this.labels = connectionLabels(this.transport.name, req);
    const subs = channels.length === 0 ? [] : await this.subscribeServerSide(credentials, req);
    if (this.closed) return;
    this.state = "connected";
    this.node.hub.addClient(this);
    this.node.metrics.clientConnected(this.labels);

    const pingSeconds = this.pingInterval > 0 ? Math.floor(this.pingInterval / 1000) : 0;
    // With a refresh proxy the server refreshes the connection itself, so the client is not told to.
    const clientRefresh = this.expireAt > 0 && !this.serverSideRefresh;
    const result = {
      client: this.id,
      version: this.node.options.version,
      expires: clientRefresh,
      ttl: clientRefresh ? Math.floor(this.expireAt - now) : 0,
      data: credentials.data,
      ping: pingSeconds,
      pong: pingSeconds > 0 && options.pong_timeout > 0 && !this.unidirectional,
      subs: Object.fromEntries(subs.map((sub) => [sub.channel, sub.result])),
      session: this.session,
      // Emulation requests name the node holding the session; a unidirectional session sends none.
      node: this.transport.emulation === true ? this.node.id : "",
      time: options.connect_include_server_time ? this.node.wheel.now() : 0,
    };
    if (this.unidirectional) this.write({ push: { connect: result } });
    else this.write({ id, connect: result });
    for (const sub of subs) sub.commit();
    this.deadlines.clear("stale");
    this.startTimers();
  }

  private async subscribeServerSide(
    credentials: Credentials,
    req: ConnectRequest,
  ): Promise<PendingSubscription[]> {
    try {
      return await this.subscriptions.subscribeServerSide(credentials.subs, req.subs);
    } catch (err) {
      this.node.releaseUserConnection(this);
      await this.subscriptions.removeAll();
      throw err;
    }
  }

  /**
   * Connect auth order: token, then the connect proxy, then the user header, then anonymous access,
   * else 3501. A connect proxy answering without a result gives no credentials.
   */
  private async authenticate(req: ConnectRequest): Promise<Credentials> {
    const options = this.node.options.client;
    if (req.token !== "") return this.credentialsFromToken(await this.verifyConnectToken(req.token));
    const connectProxy = this.node.proxies.connect;
    if (connectProxy !== undefined) {
      const result = await connectProxy(this.proxyCaller, {
        name: req.name,
        version: req.version,
        data: req.data,
        channels: [],
      });
      if (this.closed) throw DisconnectConnectionClosed;
      if (result !== undefined) return result;
    }
    const headerUser =
      options.user_id_http_header === ""
        ? undefined
        : this.request.headers[options.user_id_http_header.toLowerCase()];
    if (headerUser !== undefined && headerUser !== "") return { user: headerUser, expireAt: 0, subs: {} };
    if (options.allow_anonymous_connect_without_token || options.insecure)
      return { user: "", expireAt: 0, subs: {} };
    throw DisconnectBadRequest;
  }

  private credentialsFromToken(token: ConnectToken): Credentials {
    const options = this.node.options.client;
    if (token.user === "" && options.disallow_anonymous_connection_tokens) throw DisconnectPermissionDenied;
    const subs: Record<string, SubscribeOptionsClaims> = {};
    for (const channel of token.channels) subs[channel] = {};
    Object.assign(subs, token.subs);
    return {
      user: token.user,
      expireAt: options.insecure ? 0 : token.expireAt,
      info: token.info,
      subs,
      meta: token.meta,
    };
  }

  private async verifyConnectToken(token: string): Promise<ConnectToken> {
    try {
      return await this.node.connectTokens.verifyConnectToken(token);
    } catch (err) {
      if (err instanceof TokenExpiredError) throw ErrorTokenExpired;
      if (err instanceof InvalidTokenError) {
        this.node.logger.info({ client: this.id, reason: err.message }, "invalid connection token");
        throw DisconnectInvalidToken;
      }
      throw err;
    }
  }

  /** Undefined unless the user's other connections must be closed first. */
  private addPersonalChannel(credentials: Credentials): Promise<void> | undefined {
    const personal = this.node.options.client.subscribe_to_user_personal_channel;
    if (!personal.enabled || credentials.user === "") return undefined;
    const channel = this.node.rules.personalChannel(credentials.user, personal.personal_channel_namespace);
    credentials.subs[channel] ??= {};
    if (!personal.single_connection) return undefined;
    // The user's older connections close on every node (other workers too), as upstream's node.Disconnect
    // with this client whitelisted (centrifugo internal/client/handler.go).
    return this.node.disconnectUser(credentials.user, DisconnectConnectionLimit, { whitelist: [this.id] });
  }

  private startTimers(): void {
    const options = this.node.options.client;
    if (this.pingInterval > 0) {
      this.deadlines.set("ping", this.pingInterval / 2 + Math.random() * (this.pingInterval / 2));
    }
    if (this.expireAt > 0) this.scheduleExpiryCheck();
    if (options.presence_update_interval > 0) {
      this.deadlines.set("presence", options.presence_update_interval);
    }
    if (options.channel_position_check_delay > 0) {
      this.deadlines.set("positions", options.channel_position_check_delay);
    }
  }

  /** One of the connection's deadlines is due (see `deadlines`). */
  onDeadline(kind: DeadlineKind): void {
    const options = this.node.options.client;
    switch (kind) {
      case "stale":
        if (this.state === "connecting") this.close(DisconnectStale);
        return;
      case "ping":
        return this.sendPing();
      case "pong":
        if (this.awaitingPong) this.close(DisconnectNoPong);
        return;
      case "expiry":
        return this.checkExpiry();
      case "presence":
        this.deadlines.set("presence", options.presence_update_interval);
        return this.runInBackground("presence update", this.subscriptions.refreshPresence());
      case "positions":
        this.deadlines.set("positions", options.channel_position_check_delay);
        return this.runInBackground("position check", this.subscriptions.checkPositions());
      case "subscriptionExpiry":
        return this.subscriptions.checkExpiries();
    }
  }

  private runInBackground(what: string, task: Promise<void>): void {
    task.catch((err: unknown) => this.logInternalError(err, what));
  }

  /** App-level ping period in ms; -1 when off or when the transport pings natively. */
  private get pingInterval(): number {
    if (!this.transport.appLevelPing) return -1;
    return this.transport.pingInterval ?? this.node.options.client.ping_interval;
  }

  /** A unidirectional client cannot answer, so it is not asked to. */
  private sendPing(): void {
    const options = this.node.options.client;
    this.write({});
    this.pingSentAt = performance.now();
    if (options.pong_timeout > 0 && !this.unidirectional) {
      this.awaitingPong = true;
      this.deadlines.set("pong", options.pong_timeout);
    }
    this.deadlines.set("ping", this.pingInterval);
  }

  /** The refresh proxy refreshes connections at expiry, instead of the client's `refresh` command. */
  private get serverSideRefresh(): boolean {
    return this.node.proxies.refresh !== undefined;
  }

  private scheduleExpiryCheck(): void {
    const closeDelay = this.serverSideRefresh ? 0 : this.node.options.client.expired_close_delay;
    this.deadlines.set("expiry", this.expireAt * 1000 - this.node.wheel.now() + closeDelay);
  }

  private checkExpiry(): void {
    if (this.expireAt > 0 && this.expireAt * 1000 <= this.node.wheel.now()) this.onExpired();
    else if (this.expireAt > 0) this.scheduleExpiryCheck();
  }

  /** Expired: ask the refresh proxy when there is one, else the client missed its refresh (3005). */
  private onExpired(): void {
    const refresh = this.node.proxies.refresh;
    if (refresh === undefined) {
      this.close(DisconnectExpired);
      return;
    }
    refresh(this.proxyCaller).then(
      (result) => {
        if (this.closed) return;
        const now = this.node.wheel.now() / 1000;
        if (result.expired || result.expireAt <= now) {
          this.close(DisconnectExpired);
          return;
        }
        this.expireAt = result.expireAt;
        if (result.info !== undefined) this.info = result.info;
        if (result.meta !== undefined) this.meta = result.meta;
        this.scheduleExpiryCheck();
      },
      (err: unknown) => this.close(err instanceof Disconnect ? err : DisconnectServerError),
    );
  }

  private async onRefresh(id: number, req: RefreshRequest): Promise<void> {
    if (req.token === "" || this.serverSideRefresh) throw DisconnectBadRequest;
    let token: ConnectToken;
    try {
      token = await this.node.connectTokens.verifyConnectToken(req.token);
    } catch (err) {
      if (err instanceof TokenExpiredError) throw DisconnectExpired;
      if (err instanceof InvalidTokenError) throw DisconnectInvalidToken;
      throw err;
    }
    if (token.user !== this.user) throw DisconnectInvalidToken;
    const now = this.node.wheel.now() / 1000;
    const expireAt = this.node.options.client.insecure ? 0 : token.expireAt;
    if (expireAt > 0 && expireAt < now) throw ErrorExpired;
    this.expireAt = expireAt;
    if (token.info !== undefined && token.info.length > 0) this.info = token.info;
    this.write({
      id,
      refresh: {
        client: this.id,
        version: this.node.options.version,
        expires: expireAt > 0,
        ttl: expireAt > 0 ? Math.floor(expireAt - now) : 0,
      },
    });
  }

  /**
   * Server-side refresh (server API `refresh`): `expired` or an `expireAt` in the past closes with 3005;
   * `expireAt` 0 removes the expiry. A `refresh` push follows, as Centrifugo sends it.
   */
  refreshFromServer(options: { expired?: boolean; expireAt?: number; info?: Uint8Array }): void {
    const now = this.node.wheel.now() / 1000;
    const expireAt = options.expireAt ?? 0;
    if (options.expired === true || (expireAt > 0 && expireAt <= now)) {
      this.close(DisconnectExpired);
      return;
    }
    const hadExpiry = this.expireAt > 0;
    this.expireAt = expireAt;
    if (expireAt > 0 && options.info !== undefined && options.info.length > 0) this.info = options.info;
    if (expireAt > 0 && !hadExpiry) this.scheduleExpiryCheck();
    this.write({
      push: { refresh: { expires: expireAt > 0, ttl: expireAt > 0 ? Math.floor(expireAt - now) : 0 } },
    });
  }

  /** This connection as proxy requests describe it. */
  get proxyCaller(): ProxyCaller {
    return {
      client: this.id,
      user: this.user,
      transport: this.transport.name,
      protocol: this.transport.protocol,
      headers: this.request.headers,
      emulatedHeaders: this.emulatedHeaders,
      metadata: this.request.metadata,
      meta: this.meta,
    };
  }

  /** Who is asking, for the permission rules. */
  get requester(): Requester {
    return { user: this.user, insecure: this.node.options.client.insecure };
  }
}

/**
 * Name and version label values: Centrifugo OSS registers no client names, so a reported one is "unregistered"
 * (centrifuge client.go `connectCmd`), which keeps the labels' cardinality bounded.
 */
function connectionLabels(transport: string, req: ConnectRequest): ClientLabels {
  return sharedLabels(
    transport,
    req.name === "" ? "unnamed" : "unregistered",
    req.version === "" ? "unversioned" : "unregistered",
  );
}

/** The few label combinations, each one frozen object shared by the connections that have it. */
const labelsByKey = new Map<string, ClientLabels>();

function sharedLabels(transport: string, name: string, version: string): ClientLabels {
  const key = `${transport} ${name} ${version}`;
  let labels = labelsByKey.get(key);
  if (labels === undefined) {
    labels = Object.freeze({ transport, name, version });
    labelsByKey.set(key, labels);
  }
  return labels;
}

/** The queue of a client with no frame waiting. */
const settled = Promise.resolve();
