-- Appends a message to a channel and delivers it to the node holding the socket, as one step.
-- KEYS[1] channel hash   KEYS[2] channel log   KEYS[3] idempotency key (ignored when ARGV[5] is 0)
-- ARGV[1] data   ARGV[2] now ms   ARGV[3] replay buffer size   ARGV[4] epoch for a new (or renewed, see generation.lua) channel
-- ARGV[5] idempotency TTL ms (0: no key)   ARGV[6] node channel prefix   ARGV[7] client id
-- ARGV[8] replay window ms
-- Returns {0, "<seq> <epoch> <connected>"} for a repeated idempotency key, else {1, the same for this send}.
-- A key is remembered within the channel's epoch: after CloseChannel (or any new epoch) it sends anew.
local epoch = current_epoch(KEYS[1], ARGV[4])
if ARGV[5] ~= '0' then
  local seen = redis.call('GET', KEYS[3])
  if seen and string.match(seen, '^%d+ (%S+) ') == epoch then return {0, seen} end
end
local seq = redis.call('HINCRBY', KEYS[1], 'l', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], '0-' .. seq, 'd', ARGV[1], 't', ARGV[2])
local node = redis.call('HGET', KEYS[1], 'n')
local connected = 0
if node then
  connected = 1
  redis.call('PUBLISH', ARGV[6] .. node,
    cjson.encode({k = 'm', c = ARGV[7], e = epoch, s = seq, t = tonumber(ARGV[2]), d = ARGV[1]}))
else
  keep_at_least({KEYS[1], KEYS[2]}, tonumber(ARGV[8]))
end
local result = seq .. ' ' .. epoch .. ' ' .. connected
if ARGV[5] ~= '0' then redis.call('SET', KEYS[3], result, 'PX', ARGV[5]) end
return {1, result}
