/**
 * Client commands on a channel that need no more session state than "is it subscribed": publish, presence,
 * presence_stats and history, plus rpc.
 */
import { toProtoClientInfo, toProtoPublication } from "../engine/wire.js";
import {
  DisconnectBadRequest,
  ErrorBadRequest,
  ErrorMethodNotFound,
  ErrorNotAvailable,
} from "../protocol/codes.js";
import type {
  HistoryRequest,
  PresenceRequest,
  PresenceStatsRequest,
  PublishRequest,
  RPCRequest,
} from "../protocol/index.js";
import { checkHistory, checkPresence, checkPublicationData, checkPublish } from "./permissions.js";
import type { ChannelServices, CommandSession } from "./session.js";

export async function onPublish(
  client: CommandSession,
  services: ChannelServices,
  id: number,
  req: PublishRequest,
): Promise<void> {
  if (req.channel === "" || req.data.length === 0) throw DisconnectBadRequest;
  const resolved = services.rules.resolveForClient(req.channel);
  checkPublicationData(req.data, resolved.publicationDataFormat);
  const subscription = client.subscriptions.get(req.channel);
  const info = client.clientInfo(subscription?.info);
  const route = checkPublish(resolved.options, client.requester, subscription !== undefined);
  // Bidirectional subscribe streams are not supported, so that route answers 108 as with no proxy.
  if (route === "subscribe_stream") throw ErrorNotAvailable;
  if (route === "publish_proxy") {
    const proxy = services.proxies.publish(resolved.options.publish_proxy_name);
    if (proxy === undefined) throw ErrorNotAvailable;
    const verdict = await proxy(client.proxyCaller, req.channel, req.data);
    const { data = req.data, ...options } = verdict;
    await services.publish(resolved, data, { ...options, info });
  } else {
    await services.publish(resolved, req.data, { info });
  }
  client.write({ id, publish: {} });
}

export async function onPresence(
  client: CommandSession,
  services: ChannelServices,
  id: number,
  req: PresenceRequest,
): Promise<void> {
  checkPresenceCommand(client, services, req.channel);
  const presence = await services.presence(req.channel);
  const protoPresence = Object.fromEntries(
    Object.entries(presence).map(([client, info]) => [client, toProtoClientInfo(info)]),
  );
  client.write({ id, presence: { presence: protoPresence } });
}

export async function onPresenceStats(
  client: CommandSession,
  services: ChannelServices,
  id: number,
  req: PresenceStatsRequest,
): Promise<void> {
  checkPresenceCommand(client, services, req.channel);
  const stats = await services.presenceStats(req.channel);
  client.write({ id, presenceStats: { numClients: stats.numClients, numUsers: stats.numUsers } });
}

function checkPresenceCommand(client: CommandSession, services: ChannelServices, channel: string): void {
  if (channel === "") throw DisconnectBadRequest;
  const resolved = services.rules.resolveForClient(channel);
  checkPresence(resolved.options, client.requester, client.subscriptions.has(channel));
}

export async function onHistory(
  client: CommandSession,
  services: ChannelServices,
  id: number,
  req: HistoryRequest,
): Promise<void> {
  if (req.channel === "") throw DisconnectBadRequest;
  const resolved = services.rules.resolveForClient(req.channel);
  checkHistory(resolved.options, client.requester, client.subscriptions.has(req.channel));
  const maxLimit = services.options.client.history_max_publication_limit;
  const limit = req.limit < 0 || (maxLimit > 0 && req.limit > maxLimit) ? maxLimit : req.limit;
  const since =
    req.since === undefined ? undefined : { offset: Number(req.since.offset), epoch: req.since.epoch };
  if (req.reverse && since !== undefined && since.offset === 0) throw ErrorBadRequest;
  const history = await services.history(req.channel, { since, limit, reverse: req.reverse });
  client.write({
    id,
    history: {
      publications: history.publications.map(toProtoPublication),
      epoch: history.position.epoch,
      offset: history.position.offset,
    },
  });
}

/**
 * `rpc.ping`, then the in-process RPC handler for the methods it serves, else the RPC namespace decides: its
 * proxy answers, or 108 / 104.
 */
export async function onRpc(
  client: CommandSession,
  services: ChannelServices,
  id: number,
  req: RPCRequest,
): Promise<void> {
  const rpc = services.options.rpc;
  if (rpc.ping.enabled && req.method === rpc.ping.method) {
    client.write({ id, rpc: {} });
    return;
  }
  const handler = services.options.rpcHandler;
  if (handler?.handles(req.method)) {
    const data = await handler.call({
      method: req.method,
      data: req.data,
      user: client.user,
      client: client.id,
      transport: client.transport.name,
      protocol: client.transport.protocol,
      meta: client.meta,
    });
    client.write({ id, rpc: { data } });
    return;
  }
  // Centrifugo installs an RPC handler only with an RPC proxy or the ping extension: without either the
  // command is 108, with only the ping extension (or Turbine's in-process handler) any other method is 104.
  const proxied = rpc.without_namespace.proxy_enabled || rpc.namespaces.some((ns) => ns.proxy_enabled);
  if (!proxied) throw rpc.ping.enabled || handler !== undefined ? ErrorMethodNotFound : ErrorNotAvailable;
  const boundary = rpc.namespace_boundary;
  const at = boundary === "" ? -1 : req.method.indexOf(boundary);
  const namespace =
    at < 0 ? rpc.without_namespace : rpc.namespaces.find((ns) => ns.name === req.method.slice(0, at));
  if (namespace === undefined) throw ErrorMethodNotFound;
  if (!namespace.proxy_enabled) throw ErrorNotAvailable;
  const proxy = services.proxies.rpc(namespace.proxy_name);
  if (proxy === undefined) throw ErrorMethodNotFound;
  const data = await proxy(client.proxyCaller, req.method, req.data);
  client.write({ id, rpc: { data } });
}
