-- The client ids' side of a Subscribe, in one partition: records the membership (starting after
-- the topic's last seq, read in the topic's partition by topic-position.lua) and tells the
-- socket's node. The node then records the members in the topic's partition (topic-join.lua).
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] the topic's epoch   ARGV[3] the topic's last seq   ARGV[4] max topics per client
-- ARGV[5] channel key prefix   ARGV[6] channel key suffix   ARGV[7] node channel prefix
-- ARGV[8] replay window ms   ARGV[9] 1: only check the limit   ARGV[10..] client ids
-- Returns {-1, client id, its topic count} when one would go over the limit (nothing changed);
-- else {1, then per client id: client id, joined 0|1, connected 0|1, presence version} ({0} when checking).
local joining = {}
local order = {}
for i = 10, #ARGV do
  local client = ARGV[i]
  if joining[client] == nil then
    local topics = id_key(ARGV[5], client, ARGV[6]) .. ':topics'
    if redis.call('HEXISTS', topics, ARGV[1]) == 1 then
      joining[client] = false
    else
      local count = redis.call('HLEN', topics)
      if count >= tonumber(ARGV[4]) then return {-1, client, count} end
      joining[client] = true
    end
    table.insert(order, client)
  end
end
if ARGV[9] == '1' then return {0} end
local out = {1}
for _, client in ipairs(order) do
  local channel = id_key(ARGV[5], client, ARGV[6])
  local joined = 0
  if joining[client] then
    joined = 1
    redis.call('HSET', channel .. ':topics', ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
    local node = redis.call('HGET', channel, 'n')
    if node then
      redis.call('PUBLISH', ARGV[7] .. node, cjson.encode({k = 'j', c = client, tp = ARGV[1], e = ARGV[2], s = tonumber(ARGV[3])}))
    else
      keep_at_least({channel .. ':topics'}, tonumber(ARGV[8]))
    end
  end
  local connected, version = client_presence(channel)
  out[#out + 1] = client
  out[#out + 1] = joined
  out[#out + 1] = connected
  out[#out + 1] = version
end
return out
