-- Drops members of a topic whose channel expired (the node found their partition no longer
-- names the topic) and logs their leave, in the topic's partition. A member that joined again
-- since it was read (its join id changed) stays.
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] now ms   ARGV[3..11] topic presence args (presence.lua)
-- ARGV[12..] per member: client id, the join id read with it
-- Returns how many were dropped.
local tp = topic_presence_args(3)
local members = topic_members(tp, ARGV[1])
local info_key = id_key(tp.prefix, ARGV[1], tp.info)
local conn_key = id_key(tp.prefix, ARGV[1], tp.conn)
local dropped = 0
for i = 12, #ARGV, 2 do
  local client = ARGV[i]
  local m = read_member(conn_key, client)
  if redis.call('ZSCORE', members, client) and m.joined == ARGV[i + 1] then
    redis.call('ZREM', members, client)
    redis.call('HDEL', info_key, client)
    m.joined = ''
    write_member(conn_key, client, m)
    emit_topic_presence(tp, ARGV[1], client, 'left', 'channel-expired', '', ARGV[2])
    dropped = dropped + 1
  end
end
return dropped
