-- Ends topic memberships.
-- KEYS[1] topic members   ARGV[1] topic   ARGV[2] channel key prefix   ARGV[3] channel key suffix
-- ARGV[4] node channel prefix   ARGV[5..] client ids
-- Returns how many were members.
local removed = 0
for i = 5, #ARGV do
  local client = ARGV[i]
  if redis.call('SREM', KEYS[1], client) == 1 then
    removed = removed + 1
    local channel = id_key(ARGV[2], client, ARGV[3])
    redis.call('HDEL', channel .. ':topics', ARGV[1])
    local node = redis.call('HGET', channel, 'n')
    if node then
      redis.call('PUBLISH', ARGV[4] .. node, cjson.encode({k = 'l', c = client, tp = ARGV[1]}))
    end
  end
end
return removed
