-- Ends a channel: records the revocation, drops history and memberships, tells the socket's node.
-- KEYS[1] channel hash   KEYS[2] channel log   KEYS[3] channel topics   KEYS[4] online hash
-- KEYS[5] presence stream   KEYS[6] revocation key
-- ARGV[1] revoked at ms   ARGV[2] revocation TTL ms   ARGV[3] client id   ARGV[4] now ms
-- ARGV[5] presence history size   ARGV[6] presence channel   ARGV[7] node channel prefix
-- ARGV[8] node clients key prefix   ARGV[9] node clients key suffix   ARGV[10] topic members key prefix
-- ARGV[11] topic members key suffix   ARGV[12] this node's id
-- Returns 1 when a socket was attached.
redis.call('SET', KEYS[6], ARGV[1], 'PX', ARGV[2])
local node = redis.call('HGET', KEYS[1], 'n')
local topics = redis.call('HKEYS', KEYS[3])
for _, topic in ipairs(topics) do
  redis.call('SREM', id_key(ARGV[10], topic, ARGV[11]), ARGV[3])
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
if not node then return 0 end
redis.call('HDEL', KEYS[4], ARGV[3])
redis.call('SREM', ARGV[8] .. node .. ARGV[9], ARGV[3])
redis.call('PUBLISH', ARGV[7] .. node, cjson.encode({k = 'c', c = ARGV[3]}))
emit_presence(KEYS[5], ARGV[6], ARGV[5], ARGV[3], 'disconnected', 'channel-closed', ARGV[4], ARGV[12])
return 1
