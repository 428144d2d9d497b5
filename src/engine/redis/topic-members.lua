-- Reads a topic's members in client id order (byte order), with connected and info, and the
-- cursor of the topic's last presence change, at one instant. A member whose channel expired
-- (its topics hash no longer names the topic) is dropped here and reported as left.
-- KEYS[1] topic members (zset)   KEYS[2] topic member info   KEYS[3] online hash
-- KEYS[4] topic presence stream
-- ARGV[1] topic   ARGV[2] read after this client id ('' from the first)   ARGV[3] how many (0: all)
-- ARGV[4] channel key prefix   ARGV[5] channel key suffix   ARGV[6] now ms
-- ARGV[7..14] topic presence args (presence.lua)
-- Returns {cursor, more (0|1), client id, connected (0|1), info, ...}.
local tp = topic_presence_args(7)
topic_members(tp, ARGV[1])
local want = tonumber(ARGV[3])
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local out = {}
local found = 0
local more = 0
while want == 0 or found <= want do
  local batch
  if want == 0 then
    batch = redis.call('ZRANGE', KEYS[1], from, '+', 'BYLEX')
  else
    batch = redis.call('ZRANGE', KEYS[1], from, '+', 'BYLEX', 'LIMIT', 0, want - found + 1)
  end
  if #batch == 0 then break end
  for _, client in ipairs(batch) do
    if redis.call('HEXISTS', id_key(ARGV[4], client, ARGV[5]) .. ':topics', ARGV[1]) == 1 then
      if want ~= 0 and found == want then
        more = 1
        break
      end
      found = found + 1
      out[#out + 1] = client
      out[#out + 1] = redis.call('HEXISTS', KEYS[3], client)
      out[#out + 1] = redis.call('HGET', KEYS[2], client) or ''
    else
      redis.call('ZREM', KEYS[1], client)
      redis.call('HDEL', KEYS[2], client)
      emit_topic_presence(tp, ARGV[1], client, 'left', 'channel-expired', '', ARGV[6])
    end
  end
  if more == 1 or want == 0 then break end
  from = '(' .. batch[#batch]
end
local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
local cursor = '0-0'
if last[1] then cursor = last[1][1] end
table.insert(out, 1, more)
table.insert(out, 1, cursor)
return out
