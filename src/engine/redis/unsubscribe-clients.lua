-- The client ids' side of an Unsubscribe, in one partition: ends the memberships, each with a
-- membership version. The node then ends them in the topic's partition (topic-leave.lua), which
-- tells the sockets' nodes, in order with the topic's messages.
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] channel key prefix   ARGV[3] channel key suffix   ARGV[4..] client ids
-- Returns per client id that was a member: client id, node id or '', membership version.
local out = {}
for i = 4, #ARGV do
  local client = ARGV[i]
  local channel = id_key(ARGV[2], client, ARGV[3])
  if redis.call('HDEL', channel .. ':topics', ARGV[1]) == 1 then
    out[#out + 1] = client
    out[#out + 1] = redis.call('HGET', channel, 'n') or ''
    out[#out + 1] = next_membership_version(channel)
  end
end
return out
