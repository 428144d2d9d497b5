-- Where a topic stands, in its partition, creating (or renewing, see generation.lua) its epoch:
-- what a new member starts after.
-- KEYS[1] topic hash   KEYS[2] topic log
-- ARGV[1] epoch for a new (or renewed) topic   ARGV[2] topic TTL ms
-- Returns {epoch, last seq}.
local epoch = current_epoch(KEYS[1], ARGV[1])
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  if redis.call('EXISTS', key) == 1 then redis.call('PEXPIRE', key, ARGV[2]) end
end
return {epoch, tonumber(redis.call('HGET', KEYS[1], 'l') or '0')}
