/**
 * The engine's Lua scripts. Each runs atomically in Redis, which is what makes "append to history, then
 * broadcast" one step per channel. Times are in milliseconds (PEXPIRE) so short TTLs behave; presence scores
 * are Unix seconds with a fractional part, taken from the Redis clock so every node agrees on what expired.
 * Numbers that JS computed (offset ± 1, TTLs) arrive as decimal strings: Lua formats large numbers badly.
 */
import { LuaScript } from "./script.js";

/** How one history layout (stream or list) keeps publications, as Lua fragments of the publish script. */
interface HistoryLayout {
  /** Sets `prev` to the stored body of the newest publication, if any. */
  readPrevious: string;
  /** Appends `body` at `offset` in `epoch`, keeps at most `size`, expires after `history_ttl` ms. */
  append: string;
}

const STREAM: HistoryLayout = {
  readPrevious: `
local newest = redis.call("xrevrange", history_key, "+", "-", "COUNT", 1)[1]
if newest then
  local fields = newest[2]
  for i = 1, #fields, 2 do
    if fields[i] == "d" then
      prev = fields[i + 1]
      break
    end
  end
end`,
  append: `
redis.call("xadd", history_key, "MAXLEN", size, offset, "d", body)
redis.call("pexpire", history_key, history_ttl)`,
};

/** List items are spelled as Centrifugo spells them: `__p1:<offset>:<epoch>__<publication>`, newest first. */
const LIST: HistoryLayout = {
  readPrevious: `
local newest = redis.call("lindex", history_key, 0)
if newest then
  local header_end = string.find(newest, "__", 4, true)
  if header_end then
    prev = string.sub(newest, header_end + 2)
  end
end`,
  append: `
redis.call("lpush", history_key, "__p1:" .. offset .. ":" .. epoch .. "__" .. body)
redis.call("ltrim", history_key, 0, tonumber(size) - 1)
redis.call("pexpire", history_key, history_ttl)`,
};

/**
 * Saves a publication to its channel's history and broadcasts it.
 * KEYS: history (stream or list), history meta, idempotent result (unused when ARGV[7] is "0").
 * ARGV: publication body, history size, history ttl ms, PUB/SUB channel, meta ttl ms ("0" keeps the current
 * lifetime), epoch for a new stream, result ttl ms ("0" = no idempotency key), delta "1"/"0", version ("0" =
 * none), version epoch.
 * Returns {offset, epoch, suppressed 1/0}.
 */
function publishSource(layout: HistoryLayout): string {
  return `
local history_key, meta_key, result_key = KEYS[1], KEYS[2], KEYS[3]
local body, size, history_ttl, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local meta_ttl, new_epoch, result_ttl = ARGV[5], ARGV[6], ARGV[7]
local delta, version, version_epoch = ARGV[8] == "1", ARGV[9], ARGV[10]

if result_ttl ~= "0" then
  local cached = redis.call("hmget", result_key, "e", "s")
  if cached[1] then
    return {cached[2] or "0", cached[1], 1}
  end
end

local epoch = redis.call("hget", meta_key, "e")
if not epoch then
  epoch = new_epoch
  redis.call("hset", meta_key, "e", epoch)
  -- Publications of a forgotten stream (its meta expired or was evicted first) must not join the new one.
  redis.call("del", history_key)
end
if meta_ttl ~= "0" then
  redis.call("pexpire", meta_key, meta_ttl)
end

if version ~= "0" then
  local last = redis.call("hmget", meta_key, "v", "ve", "s")
  if last[1] and (version_epoch == "" or version_epoch == last[2]) and tonumber(version) <= tonumber(last[1]) then
    return {last[3] or "0", epoch, 1}
  end
  redis.call("hset", meta_key, "v", version, "ve", version_epoch)
end

local offset = redis.call("hincrby", meta_key, "s", 1)
local prev = ""
if delta then${layout.readPrevious}
end
${layout.append}

local header = offset .. ":" .. epoch .. ":"
if delta then
  redis.call("publish", channel, "d" .. header .. #prev .. ":" .. prev .. body)
else
  redis.call("publish", channel, "p" .. header .. body)
end

if result_ttl ~= "0" then
  redis.call("hset", result_key, "e", epoch, "s", offset)
  redis.call("pexpire", result_key, result_ttl)
end
return {offset, epoch, 0}
`;
}

/** {@link publishSource} on a stream. */
export const publishScript = new LuaScript(publishSource(STREAM), 3);

/** {@link publishSource} on a list (`history_use_lists`). */
export const publishListScript = new LuaScript(publishSource(LIST), 3);

/**
 * A plain PUBLISH of ARGV[1] on the PUB/SUB channel KEYS[1]. On a Redis Cluster the channel, passed as a key,
 * routes the call to the node owning its slot (where the publish script publishes too), so every message of
 * one channel enters the cluster bus at one node and reaches subscribers in order.
 */
export const routedPublishScript = new LuaScript(`return redis.call("publish", KEYS[1], ARGV[1])`, 1);

/**
 * Broadcasts a publication that is not saved, once per idempotency key.
 * KEYS: idempotent result. ARGV: PUB/SUB message, PUB/SUB channel, result ttl ms.
 * Returns {offset, epoch, suppressed 1/0}: the cached position of an earlier publish with the key, if any.
 */
export const publishIdempotentScript = new LuaScript(
  `
local cached = redis.call("hmget", KEYS[1], "e", "s")
if cached[1] then
  return {cached[2] or "0", cached[1], 1}
end
redis.call("publish", ARGV[2], ARGV[1])
redis.call("hset", KEYS[1], "e", "")
redis.call("pexpire", KEYS[1], ARGV[3])
return {"0", "", 0}
`,
  1,
);

/**
 * Reads (or creates: a new epoch) a history's meta and extends its lifetime. KEYS[1] history, KEYS[2] meta;
 * ARGV[1] epoch for a new history, ARGV[2] meta ttl ms ("0" keeps the current lifetime). Sets `epoch`, `top`.
 */
const readMeta = `
local history_key, meta_key = KEYS[1], KEYS[2]
local meta = redis.call("hmget", meta_key, "e", "s")
local epoch, top = meta[1], meta[2] or "0"
if not epoch then
  epoch = ARGV[1]
  redis.call("hset", meta_key, "e", epoch)
  redis.call("del", history_key)
end
if ARGV[2] ~= "0" then
  redis.call("pexpire", meta_key, ARGV[2])
end
`;

/**
 * Reads a stream's position and publications, creating the stream meta (a new epoch) when there is none.
 * KEYS: stream, stream meta.
 * ARGV: epoch for a new stream, meta ttl ms ("0" keeps the current lifetime), expected epoch ("" = any),
 * direction ("none", "forward", "reverse"), first entry id ("-" / "+" for the oldest / newest), count ("" =
 * all).
 * Returns {top offset, epoch, entries}; no entries when the expected epoch differs, or when reading backwards
 * from above the top.
 */
export const historyScript = new LuaScript(
  `${readMeta}
local direction, start, count = ARGV[4], ARGV[5], ARGV[6]
if direction == "none" or (ARGV[3] ~= "" and ARGV[3] ~= epoch) then
  return {top, epoch, {}}
end
local entries
if direction == "forward" then
  if count == "" then
    entries = redis.call("xrange", history_key, start, "+")
  else
    entries = redis.call("xrange", history_key, start, "+", "COUNT", count)
  end
else
  if start ~= "+" and tonumber(start) > tonumber(top) then
    return {top, epoch, {}}
  end
  if count == "" then
    entries = redis.call("xrevrange", history_key, start, "-")
  else
    entries = redis.call("xrevrange", history_key, start, "-", "COUNT", count)
  end
end
return {top, epoch, entries}
`,
  2,
);

/**
 * Reads a list's position and all its items (newest first; filtering is the caller's), creating the meta
 * when there is none. KEYS: list, list meta. ARGV: epoch for a new list, meta ttl ms, expected epoch ("" =
 * any), items wanted "1"/"0".
 * Returns {top offset, epoch, items}; no items when the expected epoch differs or none are wanted.
 */
export const historyListScript = new LuaScript(
  `${readMeta}
if ARGV[4] ~= "1" or (ARGV[3] ~= "" and ARGV[3] ~= epoch) then
  return {top, epoch, {}}
end
return {top, epoch, redis.call("lrange", history_key, 0, -1)}
`,
  2,
);

/** Redis's clock as Unix seconds with a fractional part, and the helper that drops expired presence. */
const presenceCommon = `
local function now_seconds()
  local t = redis.call("time")
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function drop_expired(expire_key, data_key)
  local now = string.format("%.3f", now_seconds())
  local expired = redis.call("zrangebyscore", expire_key, "-inf", now)
  for i = 1, #expired do
    redis.call("hdel", data_key, expired[i])
  end
  if #expired > 0 then
    redis.call("zremrangebyscore", expire_key, "-inf", now)
  end
end
`;

/**
 * Adds or refreshes a client's presence. KEYS: expire zset, data hash. ARGV: ttl ms, client id, ClientInfo.
 */
export const presenceAddScript = new LuaScript(
  `${presenceCommon}
local expire_at = string.format("%.3f", now_seconds() + tonumber(ARGV[1]) / 1000)
redis.call("zadd", KEYS[1], expire_at, ARGV[2])
redis.call("hset", KEYS[2], ARGV[2], ARGV[3])
redis.call("pexpire", KEYS[1], ARGV[1])
redis.call("pexpire", KEYS[2], ARGV[1])
return 1
`,
  2,
);

/** Removes a client's presence. KEYS: expire zset, data hash. ARGV: client id. */
export const presenceRemoveScript = new LuaScript(
  `
redis.call("hdel", KEYS[2], ARGV[1])
redis.call("zrem", KEYS[1], ARGV[1])
return 1
`,
  2,
);

/** The live presence as a flat [client id, ClientInfo, …] list. KEYS: expire zset, data hash. */
export const presenceGetScript = new LuaScript(
  `${presenceCommon}
drop_expired(KEYS[1], KEYS[2])
return redis.call("hgetall", KEYS[2])
`,
  2,
);

/**
 * {clients, unique users} of the live presence. KEYS: expire zset, data hash. Users are read from field 1 of
 * each Protobuf ClientInfo (absent = "", the anonymous user, which counts once).
 */
export const presenceStatsScript = new LuaScript(
  `${presenceCommon}
local function user_of(info)
  if string.byte(info, 1) ~= 10 then
    return ""
  end
  local length, multiplier, pos = 0, 1, 2
  while true do
    local b = string.byte(info, pos)
    if b == nil then
      return ""
    end
    pos = pos + 1
    length = length + (b % 128) * multiplier
    if b < 128 then
      break
    end
    multiplier = multiplier * 128
  end
  return string.sub(info, pos, pos + length - 1)
end

drop_expired(KEYS[1], KEYS[2])
local infos = redis.call("hvals", KEYS[2])
local users, num_users = {}, 0
for i = 1, #infos do
  local user = user_of(infos[i])
  if not users[user] then
    users[user] = true
    num_users = num_users + 1
  end
end
return {#infos, num_users}
`,
  2,
);

/** Every script, loaded into each server's cache on connect (see `RedisShard.loadScripts`). */
export const allScripts: readonly LuaScript[] = [
  publishScript,
  publishListScript,
  routedPublishScript,
  publishIdempotentScript,
  historyScript,
  historyListScript,
  presenceAddScript,
  presenceRemoveScript,
  presenceGetScript,
  presenceStatsScript,
];
