-- Registers one of this node's sockets again, in its client id's partition: after the node's
-- lease lapsed (it was cut off and reaped), or after Redis came back from a restart or fail-over
-- with older data or none. A newer socket that took the client id meanwhile wins; a CloseChannel
-- since the token was issued ends the socket; topic memberships the node knew of are added again
-- where they are missing, starting where the node read each topic to stand (topic-position.lua).
-- KEYS[1] channel hash   KEYS[2] online hash   KEYS[3] this node's clients set   KEYS[4] presence stream
-- KEYS[5] revocation key   KEYS[6] channel topics
-- ARGV[1] socket id   ARGV[2] node id   ARGV[3] now ms   ARGV[4] client id   ARGV[5] presence history size
-- ARGV[6] presence channel   ARGV[7] node channel prefix   ARGV[8] when the socket's token was issued (ms)
-- ARGV[9] epoch for a new (or renewed) channel   ARGV[10..] per topic the client id belongs to, as
-- this node knows: topic, its epoch, its last seq
-- Returns {outcome, connected 0|1, version, membership version of the topics added, topics added...,
-- '', every topic}: outcome 1 when
-- registered again (CONNECTED anew), 0 when it still was, -1 when it lost to a newer socket, -2
-- when a CloseChannel revoked its token.
local socket = redis.call('HGET', KEYS[1], 's')
if socket and socket ~= ARGV[1] then
  redis.call('PUBLISH', ARGV[7] .. ARGV[2], cjson.encode({k = 'x', c = ARGV[4], s = ARGV[1]}))
  return {-1}
end
local revoked_at = redis.call('GET', KEYS[5])
if revoked_at and tonumber(ARGV[8]) <= tonumber(revoked_at) then return {-2} end
current_epoch(KEYS[1], ARGV[9])
local outcome = 0
if not socket then
  redis.call('HSET', KEYS[1], 's', ARGV[1], 'n', ARGV[2], 't', ARGV[3])
  redis.call('PERSIST', KEYS[1])
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[3])
  local version = emit_presence(KEYS[4], ARGV[6], ARGV[5], ARGV[4], 'connected', 'socket-opened', ARGV[3], ARGV[2])
  redis.call('HSET', KEYS[1], 'pv', version)
  outcome = 1
end
redis.call('SADD', KEYS[3], ARGV[4])
local connected, version = client_presence(KEYS[1])
local out = {outcome, connected, version, ''}
for i = 10, #ARGV, 3 do
  if redis.call('HEXISTS', KEYS[6], ARGV[i]) == 0 then
    if out[4] == '' then out[4] = next_membership_version(KEYS[1]) end
    -- Where a fresh open starts: the topic's messages from now on (what was lost is not here).
    redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1] .. ' ' .. ARGV[i + 2] .. ' ' .. out[4])
    out[#out + 1] = ARGV[i]
  end
end
out[#out + 1] = ''
for _, topic in ipairs(redis.call('HKEYS', KEYS[6])) do out[#out + 1] = topic end
return out
