-- Appends a message to a topic and publishes it to the nodes holding member sockets, as one step.
-- KEYS[1] topic hash   KEYS[2] topic log   KEYS[3] topic members (zset)   KEYS[4] legacy topic members (set)
-- ARGV[1] data   ARGV[2] now ms   ARGV[3] replay buffer size   ARGV[4] epoch for a new (or renewed) topic
-- ARGV[5] topic TTL ms   ARGV[6] topic pub/sub channel   ARGV[7] topic
-- Returns {seq, epoch, members}.
local epoch = current_epoch(KEYS[1], ARGV[4])
local seq = redis.call('HINCRBY', KEYS[1], 'l', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], '0-' .. seq, 'd', ARGV[1], 't', ARGV[2])
for _, key in ipairs({KEYS[1], KEYS[2]}) do redis.call('PEXPIRE', key, ARGV[5]) end
redis.call('PUBLISH', ARGV[6], cjson.encode({tp = ARGV[7], e = epoch, s = seq, t = tonumber(ARGV[2]), d = ARGV[1]}))
-- Members an older version kept in a set are counted until a membership change moves them.
return {seq, epoch, redis.call('ZCARD', KEYS[3]) + redis.call('SCARD', KEYS[4])}
