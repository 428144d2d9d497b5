-- The topic's side of a Subscribe (or of a node registering its sockets again), in the topic's
-- partition: lists the members, records their info and their connection, and logs the changes.
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] 1: set the info below, 0: keep each member's   ARGV[3] info   ARGV[4] now ms
-- ARGV[5..13] topic presence args (presence.lua)
-- ARGV[14..] per client id: client id, joined 0|1 (its partition recorded a new membership),
-- connected 0|1, presence version (see subscribe-clients.lua)
local tp = topic_presence_args(5)
local members = topic_members(tp, ARGV[1])
local info_key = id_key(tp.prefix, ARGV[1], tp.info)
local conn_key = id_key(tp.prefix, ARGV[1], tp.conn)
local set_info = ARGV[2] == '1'
for i = 14, #ARGV, 4 do
  local client, joined, connected, version = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local listed = redis.call('ZSCORE', members, client)
  if joined == '1' or not listed then
    -- Its leave was not reported yet (see topic-members.lua): watchers see it go, then come back.
    if listed then emit_topic_presence(tp, ARGV[1], client, 'left', 'channel-expired', '', ARGV[4]) end
    redis.call('ZADD', members, 0, client)
    if set_info then
      if ARGV[3] == '' then redis.call('HDEL', info_key, client) else redis.call('HSET', info_key, client, ARGV[3]) end
    end
    local info = redis.call('HGET', info_key, client) or ''
    local id = emit_topic_presence(tp, ARGV[1], client, 'joined', '', info, ARGV[4])
    -- A connect or disconnect that got here first (topic-member-presence.lua) is newer than what the Subscribe read.
    local was, seen = string.match(redis.call('HGET', conn_key, client) or '', '^(%d) (%S+)')
    if was and id_after(seen, version) then connected, version = was, seen end
    redis.call('HSET', conn_key, client, connected .. ' ' .. version .. ' ' .. id)
  elseif set_info and (redis.call('HGET', info_key, client) or '') ~= ARGV[3] then
    if ARGV[3] == '' then redis.call('HDEL', info_key, client) else redis.call('HSET', info_key, client, ARGV[3]) end
    emit_topic_presence(tp, ARGV[1], client, 'updated', '', ARGV[3], ARGV[4])
  end
end
return 1
