-- Ends a channel: records the revocation, drops history and memberships, tells the socket's node.
-- KEYS[1] channel hash   KEYS[2] channel log   KEYS[3] channel topics   KEYS[4] online hash
-- KEYS[5] presence stream   KEYS[6] revocation key
-- ARGV[1] revoked at ms   ARGV[2] revocation TTL ms   ARGV[3] client id   ARGV[4] now ms
-- ARGV[5] presence history size   ARGV[6] presence channel   ARGV[7] node channel prefix
-- ARGV[8] node clients key prefix   ARGV[9] node clients key suffix   ARGV[10] this node's id
-- ARGV[11..18] topic presence args (presence.lua)
-- Returns 1 when a socket was attached.
local tp = topic_presence_args(11)
redis.call('SET', KEYS[6], ARGV[1], 'PX', ARGV[2])
local node = redis.call('HGET', KEYS[1], 'n')
local topics = redis.call('HKEYS', KEYS[3])
for _, topic in ipairs(topics) do
  if node then emit_topic_presence(tp, topic, ARGV[3], 'disconnected', 'channel-closed', '', ARGV[4]) end
  if redis.call('ZREM', topic_members(tp, topic), ARGV[3]) == 1 then
    redis.call('HDEL', id_key(tp.prefix, topic, tp.info), ARGV[3])
    emit_topic_presence(tp, topic, ARGV[3], 'left', 'channel-closed', '', ARGV[4])
  end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
if not node then return 0 end
redis.call('HDEL', KEYS[4], ARGV[3])
redis.call('SREM', ARGV[8] .. node .. ARGV[9], ARGV[3])
redis.call('PUBLISH', ARGV[7] .. node, cjson.encode({k = 'c', c = ARGV[3]}))
emit_presence(KEYS[5], ARGV[6], ARGV[5], ARGV[3], 'disconnected', 'channel-closed', ARGV[4], ARGV[10])
return 1
