-- Members of topics in one partition connected or disconnected: passed on by the node from the
-- client id's partition (attach, detach, reap-node, reattach). Each member's connection carries
-- the version (presence change id) it was last set from, so a change that arrives late, or twice,
-- changes nothing: only the newest counts, and only a real change is logged.
-- KEYS: none of its own (P:rid routes it to the partition)
-- ARGV[1] reason   ARGV[2] now ms   ARGV[3..11] topic presence args (presence.lua)
-- ARGV[12..] per change: topic, client id, connected 0|1, version
-- A change for a client not listed yet (its Subscribe's second step still to come) is kept
-- unlogged, so that step starts from it (topic-join.lua).
-- Returns how many changes were logged.
local tp = topic_presence_args(3)
local logged = 0
for i = 12, #ARGV, 4 do
  local topic, client, connected, version = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local listed = redis.call('ZSCORE', topic_members(tp, topic), client)
  local conn_key = id_key(tp.prefix, topic, tp.conn)
  local m = read_member(conn_key, client)
  local was = m.c
  if id_after(version, m.pv) then
    m.c, m.pv = connected, version
    write_member(conn_key, client, m)
    if listed then
      if was ~= connected then
        local kind = 'disconnected'
        if connected == '1' then kind = 'connected' end
        emit_topic_presence(tp, topic, client, kind, ARGV[1], '', ARGV[2])
        logged = logged + 1
      end
    end
  end
end
return logged
