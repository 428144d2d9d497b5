-- Keeps a channel at least until a time (a token lives that long).
-- KEYS[1] channel hash   KEYS[2] channel log   KEYS[3] channel topics
-- ARGV[1] retain until ms   ARGV[2] now ms   ARGV[3] epoch for a new (or renewed, see generation.lua) channel
current_epoch(KEYS[1], ARGV[3])
local until_ms = math.max(tonumber(ARGV[1]), tonumber(redis.call('HGET', KEYS[1], 'r') or '0'))
redis.call('HSET', KEYS[1], 'r', until_ms)
if not redis.call('HGET', KEYS[1], 's') then
  keep_at_least({KEYS[1], KEYS[2], KEYS[3]}, until_ms - tonumber(ARGV[2]))
end
return 1
