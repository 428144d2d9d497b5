-- Records a client's position in a topic it belongs to, when newer and real, as a delivery
-- receipt, in the client id's partition; the node read the topic's epoch and last seq from the
-- topic's partition just before (topic-state.lua).
-- KEYS[1] channel topics   KEYS[2] receipt stream
-- ARGV[1] topic   ARGV[2] epoch   ARGV[3] seq   ARGV[4] client id   ARGV[5] now ms   ARGV[6] receipts kept
-- ARGV[7] receipt channel   ARGV[8] the topic's epoch   ARGV[9] the topic's last seq
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
if ARGV[8] ~= ARGV[2] then return 0 end
local seq = tonumber(ARGV[3])
if seq > tonumber(ARGV[9]) then return 0 end
-- "<epoch> <seq>[ <membership version>]" (see subscribe-clients.lua); the version stays.
local epoch, at, version = string.match(current, '^(%S+) (%d+) ?(%S*)$')
if epoch == ARGV[2] and seq <= tonumber(at) then return 0 end
if version ~= '' then version = ' ' .. version end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. seq .. version)
emit_delivery(KEYS[2], ARGV[7], ARGV[6], ARGV[4], ARGV[2], seq, ARGV[1], ARGV[5])
return 1
