-- Forgets a socket; if it was still the client's socket, the client is DISCONNECTED. Touches the
-- client id's partition only (see attach.lua for the topics).
-- KEYS[1] channel hash   KEYS[2] channel log   KEYS[3] channel topics   KEYS[4] online hash
-- KEYS[5] this node's clients set   KEYS[6] presence stream
-- ARGV[1] socket id   ARGV[2] client id   ARGV[3] reason   ARGV[4] now ms   ARGV[5] presence history size
-- ARGV[6] presence channel   ARGV[7] replay window ms   ARGV[8] this node's id
-- Returns {0} when nothing changed, {1, version, topics...} when the client became disconnected.
if redis.call('HGET', KEYS[1], 's') ~= ARGV[1] then return {0} end
redis.call('HDEL', KEYS[1], 's', 'n', 't')
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('SREM', KEYS[5], ARGV[2])
local retain = tonumber(redis.call('HGET', KEYS[1], 'r') or '0') - tonumber(ARGV[4])
local ttl = math.max(retain, tonumber(ARGV[7]))
local version = emit_presence(KEYS[6], ARGV[6], ARGV[5], ARGV[2], 'disconnected', ARGV[3], ARGV[4], ARGV[8])
redis.call('HSET', KEYS[1], 'pv', version)
redis.call('PEXPIRE', KEYS[1], ttl)
for _, key in ipairs({KEYS[2], KEYS[3]}) do
  if redis.call('EXISTS', key) == 1 then redis.call('PEXPIRE', key, ttl) end
end
local out = presence_for_topics(version, KEYS[3])
table.insert(out, 1, 1)
return out
