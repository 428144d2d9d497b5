-- Reports the clients of a node whose lease expired as DISCONNECTED (node-lost) and forgets the
-- node, in one partition (every partition keeps its own lease, clients set and nodes set). The
-- node that reaps passes each disconnect on to the client's topics (topic-member-presence.lua).
-- KEYS[1] the dead node's lease   KEYS[2] the dead node's clients set   KEYS[3] online hash
-- KEYS[4] presence stream   KEYS[5] nodes set
-- ARGV[1] dead node id   ARGV[2] now ms   ARGV[3] presence history size   ARGV[4] presence channel
-- ARGV[5] channel key prefix   ARGV[6] channel key suffix   ARGV[7] replay window ms
-- ARGV[8] this (reaping) node's id
-- Returns {-1} while the lease lives, else {reported, then per client: client id, version, topic count, topics...}.
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
local out = {0}
for _, client in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local channel = id_key(ARGV[5], client, ARGV[6])
  if redis.call('HGET', channel, 'n') == ARGV[1] then
    redis.call('HDEL', channel, 's', 'n', 't')
    redis.call('HDEL', KEYS[3], client)
    local version = emit_presence(KEYS[4], ARGV[4], ARGV[3], client, 'disconnected', 'node-lost', ARGV[2], ARGV[8])
    redis.call('HSET', channel, 'pv', version)
    for _, key in ipairs({channel, channel .. ':log', channel .. ':topics'}) do
      if redis.call('EXISTS', key) == 1 then redis.call('PEXPIRE', key, ARGV[7]) end
    end
    local topics = redis.call('HKEYS', channel .. ':topics')
    out[#out + 1] = client
    out[#out + 1] = version
    out[#out + 1] = #topics
    for _, topic in ipairs(topics) do out[#out + 1] = topic end
    out[1] = out[1] + 1
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[5], ARGV[1])
return out
