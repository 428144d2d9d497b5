-- Ends topic memberships.
-- KEYS[1] topic members (zset)   KEYS[2] topic member info   ARGV[1] topic   ARGV[2] channel key prefix
-- ARGV[3] channel key suffix   ARGV[4] node channel prefix   ARGV[5] now ms
-- ARGV[6..13] topic presence args (presence.lua)   ARGV[14..] client ids
-- Returns how many were members.
local tp = topic_presence_args(6)
topic_members(tp, ARGV[1])
local removed = 0
for i = 14, #ARGV do
  local client = ARGV[i]
  if redis.call('ZREM', KEYS[1], client) == 1 then
    removed = removed + 1
    redis.call('HDEL', KEYS[2], client)
    local channel = id_key(ARGV[2], client, ARGV[3])
    redis.call('HDEL', channel .. ':topics', ARGV[1])
    local node = redis.call('HGET', channel, 'n')
    if node then
      redis.call('PUBLISH', ARGV[4] .. node, cjson.encode({k = 'l', c = client, tp = ARGV[1]}))
    end
    emit_topic_presence(tp, ARGV[1], client, 'left', 'unsubscribed', '', ARGV[5])
  end
end
return removed
