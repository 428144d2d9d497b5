-- Makes client ids members of a topic, each starting after the topic's current last seq, and
-- records their info (replacing what was set; '' clears it).
-- KEYS[1] topic hash   KEYS[2] topic log   KEYS[3] topic members (zset)   KEYS[4] topic member info
-- ARGV[1] topic   ARGV[2] epoch for a new (or renewed) topic   ARGV[3] topic TTL ms   ARGV[4] max topics per client
-- ARGV[5] channel key prefix   ARGV[6] channel key suffix   ARGV[7] node channel prefix
-- ARGV[8] replay window ms   ARGV[9] info   ARGV[10] now ms   ARGV[11..18] topic presence args (presence.lua)
-- ARGV[19..] client ids
-- Returns {added} or {-1, client id, its topic count} when one would go over the limit (nothing changed).
local tp = topic_presence_args(11)
topic_members(tp, ARGV[1])
local epoch = current_epoch(KEYS[1], ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local info = ARGV[9]
local joining = {}
local staying = {}
local expired = {}
local seen = {}
for i = 19, #ARGV do
  local client = ARGV[i]
  if not seen[client] then
    seen[client] = true
    local topics = id_key(ARGV[5], client, ARGV[6]) .. ':topics'
    -- A member whose channel expired is in the zset still, but no longer a member: it joins anew.
    local listed = redis.call('ZSCORE', KEYS[3], client)
    if listed and redis.call('HEXISTS', topics, ARGV[1]) == 1 then
      table.insert(staying, client)
    else
      if listed then expired[client] = true end
      local count = redis.call('HLEN', topics)
      if count >= tonumber(ARGV[4]) then return {-1, client, count} end
      table.insert(joining, client)
    end
  end
end
for _, client in ipairs(joining) do
  local channel = id_key(ARGV[5], client, ARGV[6])
  redis.call('ZADD', KEYS[3], 0, client)
  if info == '' then redis.call('HDEL', KEYS[4], client) else redis.call('HSET', KEYS[4], client, info) end
  redis.call('HSET', channel .. ':topics', ARGV[1], epoch .. ' ' .. last)
  local node = redis.call('HGET', channel, 'n')
  if node then
    redis.call('PUBLISH', ARGV[7] .. node, cjson.encode({k = 'j', c = client, tp = ARGV[1], e = epoch, s = last}))
  else
    keep_at_least({channel .. ':topics'}, tonumber(ARGV[8]))
  end
  -- Its leave was not reported yet (see topic-members.lua): watchers see it go, then come back.
  if expired[client] then emit_topic_presence(tp, ARGV[1], client, 'left', 'channel-expired', '', ARGV[10]) end
  emit_topic_presence(tp, ARGV[1], client, 'joined', '', info, ARGV[10])
end
for _, client in ipairs(staying) do
  if (redis.call('HGET', KEYS[4], client) or '') ~= info then
    if info == '' then redis.call('HDEL', KEYS[4], client) else redis.call('HSET', KEYS[4], client, info) end
    emit_topic_presence(tp, ARGV[1], client, 'updated', '', info, ARGV[10])
  end
end
for _, key in ipairs({KEYS[1], KEYS[2]}) do redis.call('PEXPIRE', key, ARGV[3]) end
return {#joining}
