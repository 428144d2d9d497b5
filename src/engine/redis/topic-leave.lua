-- The topic's side of an Unsubscribe or a CloseChannel, in the topic's partition: ends the
-- listings and logs the leaves (a closed channel's connected member disconnects first).
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] reason (unsubscribed|channel-closed)   ARGV[3] now ms
-- ARGV[4..12] topic presence args (presence.lua)   ARGV[13..] client ids
-- Returns the client ids that were listed.
local tp = topic_presence_args(4)
local members = topic_members(tp, ARGV[1])
local info_key = id_key(tp.prefix, ARGV[1], tp.info)
local conn_key = id_key(tp.prefix, ARGV[1], tp.conn)
local removed = {}
for i = 13, #ARGV do
  local client = ARGV[i]
  if redis.call('ZREM', members, client) == 1 then
    removed[#removed + 1] = client
    local conn = redis.call('HGET', conn_key, client) or ''
    if ARGV[2] == 'channel-closed' and string.sub(conn, 1, 1) == '1' then
      emit_topic_presence(tp, ARGV[1], client, 'disconnected', 'channel-closed', '', ARGV[3])
    end
    redis.call('HDEL', info_key, client)
    redis.call('HDEL', conn_key, client)
    emit_topic_presence(tp, ARGV[1], client, 'left', ARGV[2], '', ARGV[3])
  end
end
return removed
