-- Shared by every script (prepended when loaded): helpers of the scripts that change presence.
-- Appends one change to the presence stream (its id is the cursor) and tells every node, naming
-- the node that caused it (`origin`), so side effects such as webhooks run once in the cluster.
local function emit_presence(stream, channel, maxlen, client, state, reason, now, origin)
  local id = redis.call('XADD', stream, 'MAXLEN', maxlen, '*', 'c', client, 's', state, 'r', reason, 't', now)
  redis.call('PUBLISH', channel, cjson.encode({c = client, s = state, r = reason, t = tonumber(now), id = id, o = origin}))
  return id
end

-- Keeps a detached channel's keys at least `ttl` ms (a channel with a socket has no expiry).
local function keep_at_least(keys, ttl)
  for _, key in ipairs(keys) do
    local current = redis.call('PTTL', key)
    if current ~= -2 and current < ttl then redis.call('PEXPIRE', key, ttl) end
  end
end

-- Whether stream id a ("<ms>-<seq>") comes after stream id b.
local function id_after(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end

-- A client id's membership changes get versions in its partition, in the stream id form
-- ("<ms>-<n>", from the Redis clock, never going back for one channel), so the topic's partition
-- applies each once and in order, whichever order its steps arrive in.
local function next_membership_version(channel)
  local t = redis.call('TIME')
  local version = (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) .. '-0'
  local last = redis.call('HGET', channel, 'mv')
  if last and not id_after(version, last) then
    local ms, n = string.match(last, '^(%d+)-(%d+)$')
    version = ms .. '-' .. (tonumber(n) + 1)
  end
  redis.call('HSET', channel, 'mv', version)
  return version
end

-- What a topic's partition keeps of each client id that has been a member (P:tp:<T>:conn): its
-- connection as last heard (c 0|1, from presence change pv), the id of its joined change, and the
-- version of the last membership change applied (mv); kept after a leave, so an older join that
-- arrives late is refused.
local function read_member(conn_key, client)
  local m = {c = '0', pv = '0-0', joined = '', mv = '0-0', known = false}
  local value = redis.call('HGET', conn_key, client)
  if value then
    local c, pv, joined, mv = string.match(value, '^(%d) (%S+) (%S+) (%S+)$')
    if c then
      m = {c = c, pv = pv, joined = joined, mv = mv, known = true}
      if joined == '-' then m.joined = '' end
    end
  end
  return m
end

local function write_member(conn_key, client, m)
  local joined = m.joined
  if joined == '' then joined = '-' end
  redis.call('HSET', conn_key, client, m.c .. ' ' .. m.pv .. ' ' .. joined .. ' ' .. m.mv)
end

-- Topic presence. A script that changes a topic's members or a member's connection takes, from
-- ARGV[first], keys.ts's topicPresenceAffixes, the topic presence history size and the topic TTL
-- (ms): nine arguments, read here into one table.
local function topic_presence_args(first)
  return {
    prefix = ARGV[first], members = ARGV[first + 1], legacy = ARGV[first + 2], info = ARGV[first + 3],
    conn = ARGV[first + 4], log = ARGV[first + 5], pub = ARGV[first + 6], maxlen = ARGV[first + 7], ttl = ARGV[first + 8],
  }
end

-- The members zset of a topic, after moving in the members an older version kept in a set.
local function topic_members(tp, topic)
  local key = id_key(tp.prefix, topic, tp.members)
  local legacy = id_key(tp.prefix, topic, tp.legacy)
  if redis.call('EXISTS', legacy) == 1 then
    for _, client in ipairs(redis.call('SMEMBERS', legacy)) do redis.call('ZADD', key, 0, client) end
    redis.call('DEL', legacy)
  end
  return key
end

-- Appends one change to a topic's presence stream (its id is the cursor) and publishes it, with
-- the id of the entry before it (p), so a node that follows the topic sees when it missed one.
local function emit_topic_presence(tp, topic, client, kind, reason, info, now)
  local stream = id_key(tp.prefix, topic, tp.log)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  local previous = '0-0'
  if last[1] then previous = last[1][1] end
  local id = redis.call('XADD', stream, 'MAXLEN', '~', tp.maxlen, '*', 'c', client, 'k', kind, 'r', reason, 'i', info, 't', now)
  redis.call('PEXPIRE', stream, tp.ttl)
  redis.call('PUBLISH', id_key(tp.pub, topic, ''),
    cjson.encode({tp = topic, c = client, k = kind, r = reason, i = info, t = tonumber(now), id = id, p = previous}))
  return id
end

-- A client's presence as its partition last recorded it, for the topic partitions to follow:
-- {connected 0|1, the id of its last presence change ('0-0' when none)}.
local function client_presence(channel)
  local state = redis.call('HMGET', channel, 's', 'pv')
  local connected = 0
  if state[1] then connected = 1 end
  return connected, state[2] or '0-0'
end

-- What a client's partition hands the topic partitions after a presence change: the change's id
-- (their version of the client's connection) and the topics it belongs to.
local function presence_for_topics(version, topics_key)
  local out = {version}
  for _, topic in ipairs(redis.call('HKEYS', topics_key)) do out[#out + 1] = topic end
  return out
end
