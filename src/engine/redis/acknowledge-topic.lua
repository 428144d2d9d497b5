-- Records a client's position in a topic it belongs to, when newer and real.
-- KEYS[1] channel topics   KEYS[2] topic hash   ARGV[1] topic   ARGV[2] epoch   ARGV[3] seq
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local state = redis.call('HMGET', KEYS[2], 'e', 'l', 'g')
if state[1] ~= ARGV[2] or state[3] ~= RUN_ID then return 0 end
local seq = tonumber(ARGV[3])
if seq > tonumber(state[2] or '0') then return 0 end
local space = string.find(current, ' ')
if string.sub(current, 1, space - 1) == ARGV[2] and seq <= tonumber(string.sub(current, space + 1)) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. seq)
return 1
