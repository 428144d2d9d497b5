-- The topic's side of a Subscribe (or of a node registering its sockets again), in the topic's
-- partition: lists the members, records their info and their connection, logs the changes, and
-- tells each new member's node (published here, in order with the topic's messages). Each
-- membership comes with the version its own partition gave it: one already applied here, or older
-- than a leave applied here, changes nothing, so retried or late steps are harmless.
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] topic   ARGV[2] 1: set the info below, 0: keep each member's   ARGV[3] info   ARGV[4] now ms
-- ARGV[5] node channel prefix   ARGV[6..14] topic presence args (presence.lua)
-- ARGV[15..] per client id (see subscribe-clients.lua): client id, joined 0|1, connected 0|1,
-- presence version, node id or '' (tell no node), membership version ('0-0': none, list it only if
-- nothing is known of it here), start epoch, start seq
local tp = topic_presence_args(6)
local members = topic_members(tp, ARGV[1])
local info_key = id_key(tp.prefix, ARGV[1], tp.info)
local conn_key = id_key(tp.prefix, ARGV[1], tp.conn)
local set_info = ARGV[2] == '1'
local function set_member_info(client)
  if ARGV[3] == '' then redis.call('HDEL', info_key, client) else redis.call('HSET', info_key, client, ARGV[3]) end
end
for i = 15, #ARGV, 8 do
  local client, joined, connected, presence, node, version = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local m = read_member(conn_key, client)
  local listed = redis.call('ZSCORE', members, client)
  local newer = version ~= '0-0' and id_after(version, m.mv)
  if newer or (version == '0-0' and not listed and not m.known) then
    -- Its leave was not reported yet (see topic-members.lua): watchers see it go, then come back.
    if listed and joined == '1' then emit_topic_presence(tp, ARGV[1], client, 'left', 'channel-expired', '', ARGV[4]) end
    if not listed or joined == '1' then
      redis.call('ZADD', members, 0, client)
      if set_info then set_member_info(client) end
      m.joined = emit_topic_presence(tp, ARGV[1], client, 'joined', '', redis.call('HGET', info_key, client) or '', ARGV[4])
    end
    -- A connect or disconnect that got here first (topic-member-presence.lua) is newer than what the Subscribe read.
    if not (m.known and id_after(m.pv, presence)) then m.c, m.pv = connected, presence end
    if newer then m.mv = version end
    write_member(conn_key, client, m)
    -- A membership not applied here before (a Subscribe whose listing never got here: its node
    -- died between the steps) is news to the socket's node too.
    if node ~= '' then
      redis.call('PUBLISH', ARGV[5] .. node, cjson.encode({k = 'j', c = client, tp = ARGV[1], e = ARGV[i + 6], s = tonumber(ARGV[i + 7])}))
    end
  elseif listed and set_info and (redis.call('HGET', info_key, client) or '') ~= ARGV[3] then
    set_member_info(client)
    emit_topic_presence(tp, ARGV[1], client, 'updated', '', ARGV[3], ARGV[4])
  end
end
return 1
