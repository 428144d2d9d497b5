-- Reports the clients of a node whose lease expired as DISCONNECTED (node-lost) and forgets the node.
-- KEYS[1] the dead node's lease   KEYS[2] the dead node's clients set   KEYS[3] online hash
-- KEYS[4] presence stream   KEYS[5] nodes set
-- ARGV[1] dead node id   ARGV[2] now ms   ARGV[3] presence history size   ARGV[4] presence channel
-- ARGV[5] channel key prefix   ARGV[6] channel key suffix   ARGV[7] replay window ms
-- ARGV[8] this (reaping) node's id   ARGV[9..16] topic presence args (presence.lua)
-- Returns how many clients were reported.
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local tp = topic_presence_args(9)
local reported = 0
for _, client in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local channel = id_key(ARGV[5], client, ARGV[6])
  if redis.call('HGET', channel, 'n') == ARGV[1] then
    redis.call('HDEL', channel, 's', 'n', 't')
    for _, key in ipairs({channel, channel .. ':log', channel .. ':topics'}) do
      if redis.call('EXISTS', key) == 1 then redis.call('PEXPIRE', key, ARGV[7]) end
    end
    redis.call('HDEL', KEYS[3], client)
    emit_presence(KEYS[4], ARGV[4], ARGV[3], client, 'disconnected', 'node-lost', ARGV[2], ARGV[8])
    emit_member_presence(tp, channel .. ':topics', client, 'disconnected', 'node-lost', ARGV[2])
    reported = reported + 1
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[5], ARGV[1])
return reported
