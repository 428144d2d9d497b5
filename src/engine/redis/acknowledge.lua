-- Records the acked seq of a channel when it is newer and real, as a delivery receipt.
-- KEYS[1] channel hash   KEYS[2] receipt stream
-- ARGV[1] epoch   ARGV[2] seq   ARGV[3] client id   ARGV[4] now ms   ARGV[5] receipts kept   ARGV[6] receipt channel
local state = redis.call('HMGET', KEYS[1], 'e', 'l', 'a', 'g')
-- Under another Redis process the seqs of this epoch may have been handed out again.
if state[1] ~= ARGV[1] or state[4] ~= RUN_ID then return 0 end
local seq = tonumber(ARGV[2])
if seq > tonumber(state[3] or '0') and seq <= tonumber(state[2] or '0') then
  redis.call('HSET', KEYS[1], 'a', seq)
  emit_delivery(KEYS[2], ARGV[6], ARGV[5], ARGV[3], ARGV[1], seq, nil, ARGV[4])
  return 1
end
return 0
