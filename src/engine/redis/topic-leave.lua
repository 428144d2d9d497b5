-- The topic's side of an Unsubscribe or a CloseChannel, in the topic's partition: ends the
-- listings, logs the leaves (a closed channel's connected member disconnects first) and tells the
-- members' nodes, in order with the topic's messages, so no node passes a message published
-- after the leave to a socket of the client. Versions as in topic-join.lua.
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] reason (unsubscribed|channel-closed)   ARGV[3] now ms   ARGV[4] node channel prefix
-- ARGV[5..13] topic presence args (presence.lua)   ARGV[14..] per client id: client id, node id or '',
-- membership version ('0-0': none, end a listing only if nothing else is known of it here)
-- Returns the client ids that were listed.
local tp = topic_presence_args(5)
local members = topic_members(tp, ARGV[1])
local info_key = id_key(tp.prefix, ARGV[1], tp.info)
local conn_key = id_key(tp.prefix, ARGV[1], tp.conn)
local removed = {}
for i = 14, #ARGV, 3 do
  local client, node, version = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local m = read_member(conn_key, client)
  if (version ~= '0-0' and id_after(version, m.mv)) or (version == '0-0' and m.mv == '0-0') then
    if redis.call('ZREM', members, client) == 1 then
      removed[#removed + 1] = client
      if ARGV[2] == 'channel-closed' and m.c == '1' then
        emit_topic_presence(tp, ARGV[1], client, 'disconnected', 'channel-closed', '', ARGV[3])
      end
      redis.call('HDEL', info_key, client)
      emit_topic_presence(tp, ARGV[1], client, 'left', ARGV[2], '', ARGV[3])
    end
    if version ~= '0-0' then
      m.mv = version
      m.joined = ''
      write_member(conn_key, client, m)
    end
    if node ~= '' then redis.call('PUBLISH', ARGV[4] .. node, cjson.encode({k = 'l', c = client, tp = ARGV[1]})) end
  end
end
return removed
