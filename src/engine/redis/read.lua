-- Reads a channel's (or topic's) position and the log entries after a seq, creating (or renewing) the epoch.
-- KEYS[1] hash   KEYS[2] log
-- ARGV[1] epoch for a new (or renewed) history   ARGV[2] TTL ms for a new history   ARGV[3] read after this seq
-- (-1: after the acked seq; a seq beyond the last reads everything kept)   ARGV[4] the epoch of that
-- seq (another epoch's seq means nothing here: everything kept is read)
-- Returns {epoch, last seq, acked seq, first kept id or '', entries}.
local _, created = current_epoch(KEYS[1], ARGV[1])
if created then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local state = redis.call('HMGET', KEYS[1], 'e', 'l', 'a')
local last = tonumber(state[2] or '0')
local acked = tonumber(state[3] or '0')
local after = tonumber(ARGV[3])
if after < 0 then after = acked
elseif ARGV[4] ~= state[1] then after = 0 end
if after > last then after = 0 end
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local first_id = ''
if first[1] then first_id = first[1][1] end
return {state[1], last, acked, first_id, redis.call('XRANGE', KEYS[2], '(0-' .. after, '+')}
