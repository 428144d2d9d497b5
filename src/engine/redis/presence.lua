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

-- Topic presence. A script that changes a topic's members or a member's connection takes, from
-- ARGV[first], keys.ts's topicPresenceAffixes, the topic presence history size and the topic TTL
-- (ms): eight arguments, read here into one table.
local function topic_presence_args(first)
  return {
    prefix = ARGV[first], members = ARGV[first + 1], legacy = ARGV[first + 2], info = ARGV[first + 3],
    log = ARGV[first + 4], pub = ARGV[first + 5], maxlen = ARGV[first + 6], ttl = ARGV[first + 7],
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

-- A client connected or disconnected: one change in each topic it belongs to.
local function emit_member_presence(tp, topics_key, client, kind, reason, now)
  for _, topic in ipairs(redis.call('HKEYS', topics_key)) do
    emit_topic_presence(tp, topic, client, kind, reason, '', now)
  end
end
