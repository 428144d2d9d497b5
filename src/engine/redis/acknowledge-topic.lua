-- Records a client's position in a topic it belongs to, when newer and real, as a delivery receipt.
-- KEYS[1] channel topics   KEYS[2] topic hash   KEYS[3] receipt stream
-- ARGV[1] topic   ARGV[2] epoch   ARGV[3] seq   ARGV[4] client id   ARGV[5] now ms   ARGV[6] receipts kept
-- ARGV[7] receipt channel
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local state = redis.call('HMGET', KEYS[2], 'e', 'l', 'g')
if state[1] ~= ARGV[2] or state[3] ~= RUN_ID then return 0 end
local seq = tonumber(ARGV[3])
if seq > tonumber(state[2] or '0') then return 0 end
local space = string.find(current, ' ')
if string.sub(current, 1, space - 1) == ARGV[2] and seq <= tonumber(string.sub(current, space + 1)) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. seq)
emit_delivery(KEYS[3], ARGV[7], ARGV[6], ARGV[4], ARGV[2], seq, ARGV[1], ARGV[5])
return 1
