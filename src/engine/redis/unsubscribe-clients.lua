-- The client ids' side of an Unsubscribe, in one partition: ends the memberships and tells the
-- sockets' nodes. The node then ends them in the topic's partition (topic-leave.lua).
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] channel key prefix   ARGV[3] channel key suffix   ARGV[4] node channel prefix
-- ARGV[5..] client ids
-- Returns the client ids that were members.
local out = {}
for i = 5, #ARGV do
  local client = ARGV[i]
  local channel = id_key(ARGV[2], client, ARGV[3])
  if redis.call('HDEL', channel .. ':topics', ARGV[1]) == 1 then
    out[#out + 1] = client
    local node = redis.call('HGET', channel, 'n')
    if node then
      redis.call('PUBLISH', ARGV[4] .. node, cjson.encode({k = 'l', c = client, tp = ARGV[1]}))
    end
  end
end
return out
