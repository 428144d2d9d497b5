-- Registers one of this node's sockets again: after its lease lapsed (the node was cut off and
-- reaped), or after Redis came back from a restart or fail-over with older data or none. A newer
-- socket that took the client id meanwhile wins; a CloseChannel since the token was issued ends
-- the socket; topic memberships the node knew of are added again where they are missing.
-- KEYS[1] channel hash   KEYS[2] online hash   KEYS[3] this node's clients set   KEYS[4] presence stream
-- KEYS[5] revocation key   KEYS[6] channel topics
-- ARGV[1] socket id   ARGV[2] node id   ARGV[3] now ms   ARGV[4] client id   ARGV[5] presence history size
-- ARGV[6] presence channel   ARGV[7] node channel prefix   ARGV[8] when the socket's token was issued (ms)
-- ARGV[9] epoch for a new (or renewed) channel or topic   ARGV[10] topic key prefix   ARGV[11] topic TTL ms
-- ARGV[12..19] topic presence args (presence.lua)   ARGV[20..] topics the client id belongs to, as this node knows
-- Returns {outcome, memberships added}: outcome 1 when registered again (CONNECTED anew), 0 when it
-- still was, -1 when it lost to a newer socket, -2 when a CloseChannel revoked its token.
local tp = topic_presence_args(12)
local socket = redis.call('HGET', KEYS[1], 's')
if socket and socket ~= ARGV[1] then
  redis.call('PUBLISH', ARGV[7] .. ARGV[2], cjson.encode({k = 'x', c = ARGV[4], s = ARGV[1]}))
  return {-1, 0}
end
local revoked_at = redis.call('GET', KEYS[5])
if revoked_at and tonumber(ARGV[8]) <= tonumber(revoked_at) then return {-2, 0} end
current_epoch(KEYS[1], ARGV[9])
local outcome = 0
if not socket then
  redis.call('HSET', KEYS[1], 's', ARGV[1], 'n', ARGV[2], 't', ARGV[3])
  redis.call('PERSIST', KEYS[1])
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[3])
  emit_presence(KEYS[4], ARGV[6], ARGV[5], ARGV[4], 'connected', 'socket-opened', ARGV[3], ARGV[2])
  outcome = 1
end
redis.call('SADD', KEYS[3], ARGV[4])
local added = 0
for i = 20, #ARGV do
  local topic = id_key(ARGV[10], ARGV[i], '')
  if redis.call('ZADD', topic_members(tp, ARGV[i]), 0, ARGV[4]) == 1 then
    added = added + 1
    emit_topic_presence(tp, ARGV[i], ARGV[4], 'joined', '', '', ARGV[3])
  end
  local epoch, created = current_epoch(topic, ARGV[9])
  if created then redis.call('PEXPIRE', topic, ARGV[11]) end
  -- Where a fresh open starts: the topic's messages from now on (what was lost is not here).
  redis.call('HSETNX', KEYS[6], ARGV[i], epoch .. ' ' .. (redis.call('HGET', topic, 'l') or '0'))
end
if outcome == 1 then emit_member_presence(tp, KEYS[6], ARGV[4], 'connected', 'socket-opened', ARGV[3]) end
return {outcome, added}
