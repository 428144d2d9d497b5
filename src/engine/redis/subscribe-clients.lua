-- The client ids' side of a Subscribe, in one partition: records each new membership (starting
-- after the topic's last seq, read in the topic's partition by topic-position.lua) with a
-- membership version. The node then lists the members in the topic's partition (topic-join.lua),
-- which tells the sockets' nodes, in order with the topic's messages.
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] the topic's epoch   ARGV[3] the topic's last seq   ARGV[4] max topics per client
-- ARGV[5] channel key prefix   ARGV[6] channel key suffix   ARGV[7] replay window ms
-- ARGV[8] 1: only check the limit   ARGV[9..] client ids
-- Returns {-1, client id, its topic count} when one would go over the limit (nothing changed);
-- else {1, then per client id: client id, joined 0|1, connected 0|1, presence version, node id or '',
-- membership version, start epoch, start seq} ({0} when checking).
local joining = {}
local order = {}
for i = 9, #ARGV do
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
if ARGV[8] == '1' then return {0} end
local out = {1}
for _, client in ipairs(order) do
  local channel = id_key(ARGV[5], client, ARGV[6])
  local topics = channel .. ':topics'
  local joined, version, epoch, seq = 0, '0-0', ARGV[2], ARGV[3]
  local node = redis.call('HGET', channel, 'n')
  if joining[client] then
    joined = 1
    version = next_membership_version(channel)
    redis.call('HSET', topics, ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. version)
    -- An offline client's membership lasts as its channel does (a window, or its token's life).
    if not node then keep_at_least({channel, topics}, tonumber(ARGV[7])) end
  else
    local e, s, v = string.match(redis.call('HGET', topics, ARGV[1]), '^(%S+) (%d+) ?(%S*)$')
    epoch, seq = e, s
    if v and v ~= '' then version = v end
  end
  local connected, presence_version = client_presence(channel)
  for _, value in ipairs({client, joined, connected, presence_version, node or '', version, epoch, seq}) do out[#out + 1] = value end
end
return out
