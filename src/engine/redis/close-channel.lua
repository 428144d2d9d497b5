-- Ends a channel in the client id's partition: records the revocation, drops history and
-- memberships, tells the socket's node. The node then ends the memberships in each topic's
-- partition (topic-leave.lua) with the topics returned here.
-- KEYS[1] channel hash   KEYS[2] channel log   KEYS[3] channel topics   KEYS[4] online hash
-- KEYS[5] presence stream   KEYS[6] revocation key
-- ARGV[1] revoked at ms   ARGV[2] revocation TTL ms   ARGV[3] client id   ARGV[4] now ms
-- ARGV[5] presence history size   ARGV[6] presence channel   ARGV[7] node channel prefix
-- ARGV[8] node clients key prefix   ARGV[9] node clients key suffix   ARGV[10] this node's id
-- ARGV[11] replay window ms
-- Returns {1 when a socket was attached else 0, version of the disconnect or '', node id or '',
-- membership version, topics...}.
redis.call('SET', KEYS[6], ARGV[1], 'PX', ARGV[2])
local node = redis.call('HGET', KEYS[1], 'n')
local topics = redis.call('HKEYS', KEYS[3])
local membership = next_membership_version(KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
-- Only the membership version stays, a while, so a Subscribe right after it is newer still.
redis.call('HSET', KEYS[1], 'mv', membership)
redis.call('PEXPIRE', KEYS[1], ARGV[11])
local attached = 0
local version = ''
if node then
  attached = 1
  redis.call('HDEL', KEYS[4], ARGV[3])
  redis.call('SREM', ARGV[8] .. node .. ARGV[9], ARGV[3])
  redis.call('PUBLISH', ARGV[7] .. node, cjson.encode({k = 'c', c = ARGV[3]}))
  version = emit_presence(KEYS[5], ARGV[6], ARGV[5], ARGV[3], 'disconnected', 'channel-closed', ARGV[4], ARGV[10])
end
local out = {attached, version, node or '', membership}
for _, topic in ipairs(topics) do out[#out + 1] = topic end
return out
