-- Reads a topic's members in client id order (byte order), with connected, info and join id, and
-- the cursor of the topic's last presence change, at one instant, in the topic's partition. The
-- node then checks the members' own partitions for expired channels (topic-expire.lua).
-- KEYS[1] topic members (zset)   KEYS[2] topic member info   KEYS[3] topic member connections
-- KEYS[4] topic presence stream
-- ARGV[1] topic   ARGV[2] read after this client id ('' from the first)   ARGV[3] how many (0: all)
-- ARGV[4..12] topic presence args (presence.lua)
-- Returns {cursor, more (0|1), client id, connected (0|1|2), info, join id, ...}.
local tp = topic_presence_args(4)
topic_members(tp, ARGV[1])
local want = tonumber(ARGV[3])
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local batch
if want == 0 then
  batch = redis.call('ZRANGE', KEYS[1], from, '+', 'BYLEX')
else
  batch = redis.call('ZRANGE', KEYS[1], from, '+', 'BYLEX', 'LIMIT', 0, want + 1)
end
local more = 0
if want ~= 0 and #batch > want then
  more = 1
  batch[#batch] = nil
end
local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
local cursor = '0-0'
if last[1] then cursor = last[1][1] end
local out = {cursor, more}
for _, client in ipairs(batch) do
  local m = read_member(KEYS[3], client)
  out[#out + 1] = client
  -- 2: not known here (a member listed before connections were kept): the node asks its partition.
  local connected = 2
  if m.known then connected = tonumber(m.c) end
  out[#out + 1] = connected
  out[#out + 1] = redis.call('HGET', KEYS[2], client) or ''
  out[#out + 1] = m.joined
end
return out
