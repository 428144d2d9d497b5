-- Makes client ids members of a topic, each starting after the topic's current last seq.
-- KEYS[1] topic hash   KEYS[2] topic log   KEYS[3] topic members
-- ARGV[1] topic   ARGV[2] epoch for a new (or renewed) topic   ARGV[3] topic TTL ms   ARGV[4] max topics per client
-- ARGV[5] channel key prefix   ARGV[6] channel key suffix   ARGV[7] node channel prefix
-- ARGV[8] replay window ms   ARGV[9..] client ids
-- Returns {added} or {-1, client id, its topic count} when one would go over the limit (nothing changed).
local epoch = current_epoch(KEYS[1], ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local joining = {}
local seen = {}
for i = 9, #ARGV do
  local client = ARGV[i]
  if not seen[client] and redis.call('SISMEMBER', KEYS[3], client) == 0 then
    seen[client] = true
    local count = redis.call('HLEN', id_key(ARGV[5], client, ARGV[6]) .. ':topics')
    if count >= tonumber(ARGV[4]) then return {-1, client, count} end
    table.insert(joining, client)
  end
end
for _, client in ipairs(joining) do
  local channel = id_key(ARGV[5], client, ARGV[6])
  redis.call('SADD', KEYS[3], client)
  redis.call('HSET', channel .. ':topics', ARGV[1], epoch .. ' ' .. last)
  local node = redis.call('HGET', channel, 'n')
  if node then
    redis.call('PUBLISH', ARGV[7] .. node, cjson.encode({k = 'j', c = client, tp = ARGV[1], e = epoch, s = last}))
  else
    keep_at_least({channel .. ':topics'}, tonumber(ARGV[8]))
  end
end
for _, key in ipairs({KEYS[1], KEYS[2]}) do redis.call('PEXPIRE', key, ARGV[3]) end
return {#joining}
