-- Reads a channel's (or topic's) position and the log entries after a seq, creating the epoch if new.
-- KEYS[1] hash   KEYS[2] log
-- ARGV[1] epoch for a new history   ARGV[2] TTL ms for a new history   ARGV[3] read after this seq
-- (-1: after the acked seq; a seq beyond the last reads everything kept)
-- Returns {epoch, last seq, acked seq, first kept id or '', entries}.
local created = redis.call('HSETNX', KEYS[1], 'e', ARGV[1])
if created == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local state = redis.call('HMGET', KEYS[1], 'e', 'l', 'a')
local last = tonumber(state[2] or '0')
local acked = tonumber(state[3] or '0')
local after = tonumber(ARGV[3])
if after < 0 then after = acked end
if after > last then after = 0 end
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local first_id = ''
if first[1] then first_id = first[1][1] end
return {state[1], last, acked, first_id, redis.call('XRANGE', KEYS[2], '(0-' .. after, '+')}
