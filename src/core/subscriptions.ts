import {
  InvalidTokenError,
  type SubscribeOptionsClaims,
  type SubscribeToken,
  TokenExpiredError,
} from "../auth/index.js";
import type { Publication, StreamPosition } from "../engine/types.js";
import { toProtoPublication } from "../engine/wire.js";
import {
  Disconnect,
  DisconnectBadRequest,
  DisconnectChannelLimit,
  DisconnectConnectionClosed,
  DisconnectInsufficientState,
  DisconnectInvalidToken,
  DisconnectSubExpired,
  ErrorAlreadySubscribed,
  ErrorBadRequest,
  ErrorExpired,
  ErrorLimitExceeded,
  ErrorNotAvailable,
  ErrorPermissionDenied,
  ErrorTokenExpired,
  ErrorUnrecoverablePosition,
  type Unsubscribe,
  UnsubscribeExpired,
  UnsubscribeInsufficientState,
} from "../protocol/codes.js";
import {
  type FilterNode,
  type Publication as ProtoPublication,
  type SubRefreshRequest,
  type SubscribeRequest,
  type SubscribeResult,
  subscribeRequest,
  subscribeResult,
  type UnsubscribeRequest,
} from "../protocol/index.js";
import { deltaData, fossil, wireDeltaData } from "./delta.js";
import { FILTERED } from "./hub.js";
import type { ResolvedChannel } from "./namespaces.js";
import {
  type SubscribeSource,
  type SubscriptionFlags,
  subscribeSource,
  subscriptionFlags,
} from "./permissions.js";
import type { PreparedPublication } from "./prepared.js";
import { cacheRecovery, isStreamRecovered, mergePublications } from "./recovery.js";
import type { SessionContext, SubscriptionServices } from "./session.js";
import { filterProblem, matchesFilter } from "./tags-filter.js";

/** A subscribe result's members before it becomes a message (see `subscribeResult`). */
type SubscribeResultInit = Partial<Omit<SubscribeResult, "$typeName">>;

/** Subscribe request flag bit: answer 112 instead of `recovered: false`. */
const flagRejectUnrecovered = 2;

/** One channel subscription of a session. */
export interface Subscription {
  readonly channel: string;
  readonly serverSide: boolean;
  readonly flags: SubscriptionFlags;
  /** False until the subscribe reply is written; live publications wait in `buffered` meanwhile. */
  active: boolean;
  /** Created by the first publication that arrives while subscribing. */
  buffered: PreparedPublication[] | undefined;
  /** Last offset delivered, for positioned subscriptions. */
  offset: number;
  epoch: string;
  /** Channel info from the token or proxy, shown in presence and publications. */
  info?: Uint8Array;
  /** Unix seconds; 0 = never expires. */
  expireAt: number;
  /** Name of the sub_refresh proxy that refreshes it at expiry; undefined = the client refreshes it. */
  readonly refreshProxy?: string;
  /** Fossil delta negotiated. */
  readonly delta: boolean;
  /** The client holds the previous publication's data, so patches can follow. */
  deltaBase: boolean;
  /** Only publications whose tags pass this filter are delivered (offsets still advance). */
  readonly tagsFilter?: FilterNode;
}

/** A subscription set up but not yet announced: write `result`, then `commit()`. */
export interface PendingSubscription {
  channel: string;
  result: SubscribeResult;
  commit(): void;
}

/** What authorised a subscribe and what it carries beyond the namespace defaults. */
interface Grant {
  source: SubscribeSource | "server_side";
  claims: SubscribeOptionsClaims;
  /** See `Subscription.refreshProxy`. */
  refreshProxy?: string;
}

/**
 * A session's subscriptions: subscribe with recovery, live delivery with position checks, expiry,
 * presence and join/leave bookkeeping, and cleanup.
 */
export class Subscriptions<S extends SessionContext = SessionContext> {
  /**
   * The subscriptions by channel: the subscription itself while there is one (most connections have one, and
   * a Map costs ~200 bytes), a Map once there are more.
   */
  private subs: Subscription | Map<string, Subscription> | undefined;
  /**
   * Client subscribes under way by channel, each settling when it ends either way. Commands may overlap
   * (`client.concurrency`), so as centrifuge reserves the channel with a `subscribingCh` (centrifuge
   * client.go), another subscribe to it is refused and an unsubscribe of it waits for the subscribe.
   * Undefined while none is (an idle connection keeps no empty Map).
   */
  private subscribing: Map<string, Promise<void>> | undefined;

  constructor(
    private readonly session: S,
    private readonly services: SubscriptionServices<S>,
  ) {}

  get(channel: string): Subscription | undefined {
    const subs = this.subs;
    if (subs instanceof Map) return subs.get(channel);
    return subs?.channel === channel ? subs : undefined;
  }

  has(channel: string): boolean {
    return this.get(channel)?.active === true;
  }

  /** Every subscription, as a snapshot. */
  private all(): Subscription[] {
    const subs = this.subs;
    if (subs instanceof Map) return [...subs.values()];
    return subs === undefined ? [] : [subs];
  }

  private store(sub: Subscription): void {
    const subs = this.subs;
    if (subs instanceof Map) subs.set(sub.channel, sub);
    else if (subs === undefined || subs.channel === sub.channel) this.subs = sub;
    else
      this.subs = new Map([
        [subs.channel, subs],
        [sub.channel, sub],
      ]);
  }

  private forget(channel: string): void {
    const subs = this.subs;
    if (!(subs instanceof Map)) {
      if (subs?.channel === channel) this.subs = undefined;
      return;
    }
    subs.delete(channel);
    if (subs.size <= 1) this.subs = subs.values().next().value;
  }

  pushesJoinLeave(channel: string): boolean {
    const sub = this.get(channel);
    return sub?.active === true && sub.flags.pushJoinLeave;
  }

  /** @returns the bytes queued, 0 when nothing was (yet), or FILTERED (see `HubClient`). */
  deliverPublication(prepared: PreparedPublication): number {
    const sub = this.get(prepared.channel);
    if (sub === undefined) return 0;
    if (!sub.active) {
      (sub.buffered ??= []).push(prepared);
      return 0;
    }
    return this.writePublication(sub, prepared);
  }

  /** Client `subscribe` command. */
  async onSubscribe(id: number, req: SubscribeRequest): Promise<void> {
    if (req.channel === "") throw DisconnectBadRequest;
    this.services.rules.checkLength(req.channel);
    if (this.taken(req.channel)) throw ErrorAlreadySubscribed;
    const limit = this.services.options.client.channel_limit;
    if (limit > 0 && this.count >= limit) throw ErrorLimitExceeded;
    const resolved = this.services.rules.resolveForClient(req.channel);
    // Only stream subscriptions exist here; map and shared-poll types (experimental upstream) are refused.
    const namespaceType = resolved.options.subscription_type;
    if (req.type !== 0 || (namespaceType !== "" && namespaceType !== "stream")) throw ErrorPermissionDenied;
    const subscribing = this.subscribe(id, resolved, req);
    (this.subscribing ??= new Map()).set(
      req.channel,
      subscribing.then(
        () => undefined,
        () => undefined,
      ),
    );
    try {
      await subscribing;
    } finally {
      this.subscribing?.delete(req.channel);
      if (this.subscribing?.size === 0) this.subscribing = undefined;
    }
  }

  private async subscribe(id: number, resolved: ResolvedChannel, req: SubscribeRequest): Promise<void> {
    const authorizing = this.authorize(resolved, req);
    const grant = authorizing instanceof Promise ? await authorizing : authorizing;
    const pending = await this.prepare(resolved, req, grant, false);
    this.session.write({ id, subscribe: pending.result });
    pending.commit();
  }

  /** Subscribed, or a client subscribe to `channel` is under way. */
  private taken(channel: string): boolean {
    return this.get(channel) !== undefined || this.subscribing?.has(channel) === true;
  }

  /** Subscriptions, counting those under way that have not registered yet. */
  private get count(): number {
    const subs = this.subs;
    let count = subs instanceof Map ? subs.size : subs === undefined ? 0 : 1;
    for (const channel of this.subscribing?.keys() ?? []) if (this.get(channel) === undefined) count++;
    return count;
  }

  /** Server-side subscriptions at connect (token `channels`/`subs`, personal channel), recovering what the client sent back. */
  async subscribeServerSide(
    channels: Record<string, SubscribeOptionsClaims>,
    recover: Record<string, SubscribeRequest>,
  ): Promise<PendingSubscription[]> {
    const pending: PendingSubscription[] = [];
    for (const [channel, claims] of Object.entries(channels)) {
      const resolved = this.services.rules.resolve(channel);
      const sent = recover[channel];
      const req = subscribeRequest({
        channel,
        recover: sent?.recover,
        offset: sent?.offset,
        epoch: sent?.epoch,
      });
      pending.push(await this.prepare(resolved, req, { source: "server_side", claims }, true));
    }
    return pending;
  }

  /**
   * Server-initiated subscribe (server API `subscribe`): like a connect-time server-side subscription,
   * announced with a `subscribe` push. As in Centrifugo, recovered publications are not sent, only the
   * position; too many channels closes the connection with 3505.
   */
  async subscribeFromServer(
    channel: string,
    claims: SubscribeOptionsClaims,
    since?: StreamPosition,
  ): Promise<void> {
    if (this.taken(channel)) throw ErrorAlreadySubscribed;
    const limit = this.services.options.client.channel_limit;
    if (limit > 0 && this.count >= limit) {
      this.session.close(DisconnectChannelLimit);
      return;
    }
    const req = subscribeRequest({
      channel,
      recover: since !== undefined,
      offset: since?.offset,
      epoch: since?.epoch,
    });
    const pending = await this.prepare(
      this.services.rules.resolve(channel),
      req,
      { source: "server_side", claims },
      true,
    );
    const { recoverable, epoch, offset, positioned, data } = pending.result;
    this.session.write({ push: { channel, subscribe: { recoverable, epoch, offset, positioned, data } } });
    pending.commit();
  }

  async onUnsubscribe(id: number, req: UnsubscribeRequest): Promise<void> {
    if (req.channel === "") throw DisconnectBadRequest;
    await this.subscribing?.get(req.channel);
    await this.remove(req.channel);
    this.session.write({ id, unsubscribe: {} });
  }

  /** Client `sub_refresh`: a new subscription token extends a subscription's expiry. */
  async onSubRefresh(id: number, req: SubRefreshRequest): Promise<void> {
    if (req.channel === "") throw DisconnectBadRequest;
    const sub = this.get(req.channel);
    if (sub === undefined || !sub.active) throw ErrorPermissionDenied;
    // A subscription the sub_refresh proxy refreshes is not the client's to refresh.
    if (sub.refreshProxy !== undefined) throw DisconnectBadRequest;
    if (req.token === "") throw ErrorBadRequest;
    const token = await this.verifyToken(req.token, req.channel);
    const now = this.services.wheel.now() / 1000;
    if (token.expireAt > 0 && token.expireAt < now) throw ErrorExpired;
    sub.expireAt = token.expireAt;
    if (token.info !== undefined) sub.info = token.info;
    this.session.write({
      id,
      subRefresh: {
        expires: token.expireAt > 0,
        ttl: token.expireAt > 0 ? Math.floor(token.expireAt - now) : 0,
      },
    });
  }

  /** Server-initiated unsubscribe: tell the client with a push, then clean up. */
  unsubscribe(channel: string, reason: Unsubscribe): void {
    if (this.get(channel) === undefined) return;
    this.services.metrics.serverUnsubscribe(reason.code);
    this.session.write({ push: { channel, unsubscribe: { code: reason.code, reason: reason.reason } } });
    this.remove(channel).catch((err: unknown) => this.session.logInternalError(err, "unsubscribe"));
  }

  /** Re-add presence for every subscription that keeps it, so it does not expire. */
  async refreshPresence(): Promise<void> {
    for (const sub of this.all()) {
      // One removed while an earlier one was being added keeps no presence.
      if (sub.active && sub.flags.emitPresence && this.get(sub.channel) === sub) {
        this.services.metrics.action("add_presence");
        await this.services.presenceManager.addPresence(
          sub.channel,
          this.session.id,
          this.session.clientInfo(sub.info),
        );
      }
    }
  }

  /**
   * Compare each positioned subscription with its stream's top: a different epoch or a top beyond what
   * was delivered means publications were lost on the way (client-side: 2500, server-side: 3010).
   */
  async checkPositions(): Promise<void> {
    for (const sub of this.all()) {
      if (!sub.active || !sub.flags.positioned) continue;
      const top = await this.services.streamTop(sub.channel);
      if (this.get(sub.channel) !== sub) continue;
      if (top.epoch !== sub.epoch || top.offset > sub.offset) this.onInsufficientState(sub);
    }
  }

  /** Drop every subscription (the session closed). */
  async removeAll(): Promise<void> {
    await Promise.all(this.all().map((sub) => this.remove(sub.channel)));
  }

  private async remove(channel: string): Promise<void> {
    const sub = this.get(channel);
    if (sub === undefined) return;
    this.forget(channel);
    await this.services.removeSubscription(channel, this.session);
    if (sub.flags.emitPresence) {
      this.services.metrics.action("remove_presence");
      await this.services.presenceManager.removePresence(channel, this.session.id, this.session.user);
    }
    if (sub.active && sub.flags.emitJoinLeave) {
      this.services.metrics.brokerMessageSent("leave");
      await this.services.broker.publishLeave(channel, this.session.clientInfo(sub.info));
    }
  }

  /** Synchronous (a grant, not a promise) unless a token or a proxy decides: each await costs garbage. */
  private authorize(resolved: ResolvedChannel, req: SubscribeRequest): Grant | Promise<Grant> {
    const source = subscribeSource(resolved, this.session.requester, req.token !== "");
    // Subscribe stream proxies are not supported; Centrifugo answers 108 when none is configured.
    if (source === "subscribe_stream_proxy") throw ErrorNotAvailable;
    if (source === "subscribe_proxy") return this.authorizeByProxy(resolved, req);
    if (source !== "subscription_token") return { source, claims: {} };
    return this.authorizeByToken(req);
  }

  private async authorizeByToken(req: SubscribeRequest): Promise<Grant> {
    const token = await this.verifyToken(req.token, req.channel);
    return {
      source: "subscription_token",
      claims: { info: token.info, data: token.data, override: token.override, expireAt: token.expireAt },
    };
  }

  /** The subscribe proxy decides (108 when the namespace names no configured proxy). */
  private async authorizeByProxy(resolved: ResolvedChannel, req: SubscribeRequest): Promise<Grant> {
    const { options } = resolved;
    const proxy = this.services.proxies.subscribe(options.subscribe_proxy_name);
    if (proxy === undefined) throw ErrorNotAvailable;
    const result = await proxy(this.session.proxyCaller, req.channel, req.token, req.data);
    if (this.session.closed) throw DisconnectConnectionClosed;
    const refreshProxy =
      options.sub_refresh_proxy_enabled && this.services.proxies.subRefresh(options.sub_refresh_proxy_name)
        ? options.sub_refresh_proxy_name
        : undefined;
    return { source: "subscribe_proxy", claims: result, refreshProxy };
  }

  private async verifyToken(token: string, channel: string): Promise<SubscribeToken> {
    let claims: SubscribeToken;
    try {
      claims = await this.services.subscribeTokens.verifySubscribeToken(token);
    } catch (err) {
      if (err instanceof TokenExpiredError) throw ErrorTokenExpired;
      if (err instanceof InvalidTokenError) throw ErrorPermissionDenied;
      throw err;
    }
    const mismatch =
      claims.channel !== channel ||
      claims.user !== this.session.user ||
      (claims.client !== "" && claims.client !== this.session.id);
    if (mismatch) throw DisconnectInvalidToken;
    return claims;
  }

  /**
   * Register the subscription (buffering live publications), add presence, read the stream position or
   * recover, and build the result. Nothing is written until the caller writes the result and commits.
   */
  private async prepare(
    resolved: ResolvedChannel,
    req: SubscribeRequest,
    grant: Grant,
    serverSide: boolean,
  ): Promise<PendingSubscription> {
    const channel = resolved.channel;
    const expireAt = grant.claims.expireAt ?? 0;
    const now = this.services.wheel.now() / 1000;
    if (expireAt > 0 && expireAt <= now) throw ErrorExpired;
    const flags = subscriptionFlags({
      options: resolved.options,
      who: this.session.requester,
      source: grant.source,
      requested: { positioned: req.positioned, recoverable: req.recoverable, joinLeave: req.joinLeave },
      override: grant.claims.override,
    });
    const sub: Subscription = {
      channel,
      serverSide,
      flags,
      active: false,
      buffered: undefined,
      offset: 0,
      epoch: "",
      info: grant.claims.info,
      expireAt,
      refreshProxy: grant.refreshProxy,
      delta: req.delta === fossil && resolved.options.allowed_delta_types.includes(fossil),
      deltaBase: false,
      tagsFilter: checkedTagsFilter(resolved, req),
    };
    this.store(sub);
    try {
      const adding = this.services.addSubscription(channel, this.session);
      if (adding !== undefined) await adding;
      if (flags.emitPresence) {
        this.services.metrics.action("add_presence");
        await this.services.presenceManager.addPresence(
          channel,
          this.session.id,
          this.session.clientInfo(sub.info),
        );
      }
      const result = subscribeResult(sub.flags.positioned ? await this.position(sub, req) : {});
      if (this.session.closed) throw DisconnectConnectionClosed;
      // The client refreshes only what no sub_refresh proxy refreshes for it.
      const clientRefresh = expireAt > 0 && sub.refreshProxy === undefined;
      result.expires = clientRefresh;
      result.ttl = clientRefresh ? Math.floor(expireAt - now) : 0;
      if (grant.claims.data !== undefined) result.data = grant.claims.data;
      result.delta = sub.delta;
      return { channel, result, commit: () => this.commit(sub) };
    } catch (err) {
      await this.remove(channel);
      throw err;
    }
  }

  /** Positioning and recovery part of the subscribe result, for a positioned subscription. */
  private async position(sub: Subscription, req: SubscribeRequest): Promise<SubscribeResultInit> {
    const since: StreamPosition = { offset: Number(req.offset), epoch: req.epoch };
    const recovering = sub.flags.recoverable && (req.recover || sub.flags.autoCacheRecover);
    let top: StreamPosition;
    let recovered = false;
    let publications: Publication[] = [];
    if (recovering && sub.flags.recoveryMode === "cache") {
      this.services.metrics.action("history_recover_cache");
      const history = await this.services.history(sub.channel, { limit: 1, reverse: true });
      top = history.position;
      ({ publications, recovered } = cacheRecovery(history.publications[0], top, since));
    } else if (recovering) {
      ({ top, recovered, publications } = await this.recoverStream(sub.channel, since));
    } else {
      top = await this.services.streamTop(sub.channel);
    }
    if (recovering) this.services.metrics.recover(recovered, publications.length);
    if (!recovered && (Number(req.flag) & flagRejectUnrecovered) !== 0 && recovering)
      throw ErrorUnrecoverablePosition;
    return this.positionedResult(sub, { top, recovered, recovering, since, publications });
  }

  private async recoverStream(
    channel: string,
    since: StreamPosition,
  ): Promise<{ top: StreamPosition; recovered: boolean; publications: Publication[] }> {
    const limit = this.services.options.client.recovery_max_publication_limit;
    this.services.metrics.action("history_recover");
    try {
      const history = await this.services.history(channel, { since, limit: limit > 0 ? limit : -1 });
      const recovered = isStreamRecovered(history, since);
      return { top: history.position, recovered, publications: recovered ? history.publications : [] };
    } catch (err) {
      if (err !== ErrorUnrecoverablePosition) throw err;
      return { top: await this.services.streamTop(channel), recovered: false, publications: [] };
    }
  }

  /** Merge what arrived live while subscribing and fill in offsets as Centrifugo does. */
  private positionedResult(
    sub: Subscription,
    state: {
      top: StreamPosition;
      recovered: boolean;
      recovering: boolean;
      since: StreamPosition;
      publications: Publication[];
    },
  ): SubscribeResultInit {
    const recoveredPubs = state.publications.map(toProtoPublication);
    const live = (sub.buffered ?? []).map((prepared) => prepared.pub);
    sub.buffered = undefined;
    const merged = mergePublications(recoveredPubs.map(withOffset), live.map(withOffset), state.top.offset);
    if (merged === undefined) throw DisconnectInsufficientState;
    const maxOffset = Math.max(state.top.offset, merged[merged.length - 1]?.offset ?? 0);
    sub.offset = maxOffset;
    sub.epoch = state.top.epoch;
    return {
      positioned: true,
      recoverable: sub.flags.recoverable,
      epoch: state.top.epoch,
      offset: state.recovered ? state.since.offset : maxOffset,
      recovered: state.recovered,
      wasRecovering: state.recovering,
      publications: state.recovered
        ? this.recoveredForWire(
            sub,
            merged.map((item) => item.pub).filter((pub) => passesFilter(sub, pub)),
          )
        : [],
    };
  }

  /** Recovered publications as a delta subscriber gets them: the first full, then patches on each other. */
  private recoveredForWire(sub: Subscription, pubs: ProtoPublication[]): ProtoPublication[] {
    if (!sub.delta) return pubs;
    // Centrifugo lets patches follow even after an empty recovery: the client keeps its last data.
    sub.deltaBase = true;
    const protocol = this.session.transport.protocol;
    return pubs.map((pub, i) => {
      const { data, delta } = deltaData(i === 0 ? undefined : pubs[i - 1]?.data, pub.data);
      return { ...pub, data: wireDeltaData(protocol, data), delta };
    });
  }

  /** The subscribe reply is out: start delivering, announce the join, watch the expiry. */
  private commit(sub: Subscription): void {
    if (this.get(sub.channel) !== sub || this.session.closed) return;
    sub.active = true;
    const buffered = sub.buffered ?? [];
    sub.buffered = undefined;
    for (const prepared of buffered) {
      const queued = this.writePublication(sub, prepared);
      if (queued > 0) this.session.transportMetrics.sent("push_publication", 1, queued);
    }
    if (sub.flags.emitJoinLeave) {
      this.services.metrics.brokerMessageSent("join");
      this.services.broker
        .publishJoin(sub.channel, this.session.clientInfo(sub.info))
        .catch((err: unknown) => this.session.logInternalError(err, "join"));
    }
    if (sub.expireAt > 0) this.scheduleExpiryCheck(sub);
  }

  /** @returns the bytes queued, 0 when none were, or FILTERED; the caller counts them. */
  private writePublication(sub: Subscription, prepared: PreparedPublication): number {
    const { offset } = prepared;
    if (sub.flags.positioned && offset > 0) {
      const maxLag = this.services.options.client.channel_position_max_time_lag;
      if (maxLag > 0 && this.services.wheel.now() - prepared.time > maxLag) {
        this.onInsufficientState(sub);
        return 0;
      }
      if (sub.epoch === "") sub.epoch = prepared.epoch;
      if (prepared.epoch !== sub.epoch) {
        this.onInsufficientState(sub);
        return 0;
      }
      if (offset <= sub.offset) return 0;
      if (offset !== sub.offset + 1) {
        this.onInsufficientState(sub);
        return 0;
      }
      sub.offset = offset;
    }
    // The publication's Protobuf message is built only for a subscription with a filter.
    if (sub.tagsFilter !== undefined && !passesFilter(sub, prepared.pub)) return FILTERED;
    if (!sub.delta) return this.session.writeShared(prepared);
    const { protocol } = this.session.transport;
    const queued = this.session.writeUnit(
      prepared.deltaUnit(protocol, sub.deltaBase, this.session.unidirectional),
    );
    sub.deltaBase = true;
    return queued;
  }

  /** A gap in a positioned stream: client-side subscriptions resubscribe (2500), server-side ones reconnect (3010). */
  private onInsufficientState(sub: Subscription): void {
    if (sub.serverSide) this.session.close(DisconnectInsufficientState);
    else this.unsubscribe(sub.channel, UnsubscribeInsufficientState);
  }

  private scheduleExpiryCheck(sub: Subscription): void {
    this.session.deadlines.atMost("subscriptionExpiry", this.expiryCheckAt(sub) - this.services.wheel.now());
  }

  /** As upstream, a sub_refresh proxy too is asked only once the close delay has passed. */
  private expiryCheckAt(sub: Subscription): number {
    return sub.expireAt * 1000 + this.services.options.client.expired_sub_close_delay;
  }

  /** The connection's subscription-expiry deadline: expire or refresh what is due, wait for the next. */
  checkExpiries(): void {
    const now = this.services.wheel.now();
    // The wheel may run a deadline up to one resolution early.
    const horizon = now + this.services.wheel.resolutionMs;
    let next = 0;
    for (const sub of this.all()) {
      if (!sub.active || sub.expireAt === 0 || this.get(sub.channel) !== sub) continue;
      const at = this.expiryCheckAt(sub);
      if (at > horizon || sub.expireAt * 1000 > now) {
        if (next === 0 || at < next) next = at;
      } else if (sub.refreshProxy !== undefined) {
        const proxy = sub.refreshProxy;
        // Not due again while the proxy answers; its answer sets the next expiry.
        sub.expireAt = 0;
        this.refreshByProxy(sub, proxy);
      } else {
        this.onExpired(sub);
      }
    }
    if (next > 0) this.session.deadlines.atMost("subscriptionExpiry", next - now);
  }

  private onExpired(sub: Subscription): void {
    if (sub.serverSide) this.session.close(DisconnectSubExpired);
    else this.unsubscribe(sub.channel, UnsubscribeExpired);
  }

  /** Server-side subscription refresh: the proxy extends the subscription, or it expires. */
  private refreshByProxy(sub: Subscription, proxyName: string): void {
    const proxy = this.services.proxies.subRefresh(proxyName);
    if (proxy === undefined) {
      this.onExpired(sub);
      return;
    }
    proxy(this.session.proxyCaller, sub.channel).then(
      (result) => {
        if (this.get(sub.channel) !== sub || this.session.closed) return;
        if (result.expired || (result.expireAt > 0 && result.expireAt * 1000 < this.services.wheel.now())) {
          this.onExpired(sub);
          return;
        }
        sub.expireAt = result.expireAt;
        if (result.info !== undefined) sub.info = result.info;
        if (sub.expireAt > 0) this.scheduleExpiryCheck(sub);
      },
      (err: unknown) => {
        if (err instanceof Disconnect) this.session.close(err);
        else this.onExpired(sub);
      },
    );
  }
}

/** A tags filter is allowed only where the namespace says so, and must be well-formed (else 107). */
function checkedTagsFilter(resolved: ResolvedChannel, req: SubscribeRequest): FilterNode | undefined {
  if (req.tf === undefined) return undefined;
  if (!resolved.options.allow_tags_filter || filterProblem(req.tf) !== undefined) throw ErrorBadRequest;
  return req.tf;
}

/** Whether a publication is for this subscriber under its tags filter. */
function passesFilter(sub: Subscription, pub: ProtoPublication): boolean {
  return sub.tagsFilter === undefined || matchesFilter(sub.tagsFilter, pub.tags);
}

function withOffset(pub: ProtoPublication): { offset: number; pub: ProtoPublication } {
  return { offset: Number(pub.offset), pub };
}
