-- After this node's lease lapsed (it was cut off from Redis and reaped), re-registers one of its
-- sockets, unless a newer socket took the client id meanwhile.
-- KEYS[1] channel hash   KEYS[2] online hash   KEYS[3] this node's clients set   KEYS[4] presence stream
-- ARGV[1] socket id   ARGV[2] node id   ARGV[3] now ms   ARGV[4] client id   ARGV[5] presence history size
-- ARGV[6] presence channel   ARGV[7] node channel prefix
-- Returns 1 when re-registered (CONNECTED again), 0 when it still was, -1 when it lost to a newer socket.
local socket = redis.call('HGET', KEYS[1], 's')
if socket == ARGV[1] then
  redis.call('SADD', KEYS[3], ARGV[4])
  return 0
end
if socket then
  redis.call('PUBLISH', ARGV[7] .. ARGV[2], cjson.encode({k = 'x', c = ARGV[4], s = ARGV[1]}))
  return -1
end
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'n', ARGV[2], 't', ARGV[3])
redis.call('PERSIST', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
emit_presence(KEYS[4], ARGV[6], ARGV[5], ARGV[4], 'connected', 'socket-opened', ARGV[3], ARGV[2])
return 1
