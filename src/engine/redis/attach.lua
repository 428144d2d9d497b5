-- Makes a socket the one socket of a client id (newest wins) and records presence. Touches the
-- client id's partition only: the node passes a connect on to the topics it belongs to
-- (topic-member-presence.lua) with the version returned here.
-- KEYS[1] channel hash   KEYS[2] channel log   KEYS[3] channel topics   KEYS[4] online hash
-- KEYS[5] this node's clients set   KEYS[6] presence stream   KEYS[7] revocation key
-- ARGV[1] socket id   ARGV[2] node id   ARGV[3] now ms   ARGV[4] epoch for a new (or renewed, see generation.lua) channel
-- ARGV[5] node channel prefix   ARGV[6] client id   ARGV[7] presence history size
-- ARGV[8] presence channel   ARGV[9] node clients key prefix   ARGV[10] node clients key suffix
-- ARGV[11] when the socket's token was issued (ms)
-- Returns {-1} when a CloseChannel revoked the token (nothing changes), {1} when an older socket was
-- displaced (no presence change), {0, version, topics...} when the client connected.
local revoked_at = redis.call('GET', KEYS[7])
if revoked_at and tonumber(ARGV[11]) <= tonumber(revoked_at) then return {-1} end
local old_socket = redis.call('HGET', KEYS[1], 's')
local old_node = redis.call('HGET', KEYS[1], 'n')
current_epoch(KEYS[1], ARGV[4])
redis.call('HSET', KEYS[1], 's', ARGV[1], 'n', ARGV[2])
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('PERSIST', KEYS[3])
redis.call('SADD', KEYS[5], ARGV[6])
if old_socket then
  if old_node and old_node ~= ARGV[2] then
    -- So a lease expiry of the old node does not report this still-connected client as gone.
    redis.call('SREM', ARGV[9] .. old_node .. ARGV[10], ARGV[6])
  end
  if old_node then
    redis.call('PUBLISH', ARGV[5] .. old_node, cjson.encode({k = 'x', c = ARGV[6], s = old_socket}))
  end
  return {1}
end
redis.call('HSET', KEYS[4], ARGV[6], ARGV[3])
local version = emit_presence(KEYS[6], ARGV[8], ARGV[7], ARGV[6], 'connected', 'socket-opened', ARGV[3], ARGV[2])
redis.call('HSET', KEYS[1], 't', ARGV[3], 'pv', version)
local out = presence_for_topics(version, KEYS[3])
table.insert(out, 1, 0)
return out
