-- Shared by every script but boot.lua (prepended when loaded, first of all). Every script is
-- called with P:rid before its own keys and the calling node's run id of Redis (what boot.lua
-- told it) before its own arguments; both are taken off here, so KEYS and ARGV below are the
-- script's own. A node that has not booted against the Redis process serving the data now is
-- refused with CHANNELD_STALE: it boots, then runs the script again.
local RUN_ID = table.remove(ARGV, 1)
if redis.call('GET', table.remove(KEYS, 1)) ~= RUN_ID then
  return redis.error_reply('CHANNELD_STALE this node has not booted against this redis process yet')
end

-- Redis can come back with older data under the same epochs (a restart from an older snapshot,
-- a fail-over to a replica that lagged), and would then hand out seqs a client already has. So
-- every channel and topic hash records in g the run id of the Redis process that last wrote it,
-- and one written under another process gets a new epoch before it is used: its clients resume
-- as "not recovered" rather than skip what look like repeats. Returns the hash's epoch (`epoch`
-- when it is new or renewed) and whether the hash was created.
local function current_epoch(hash, epoch)
  local state = redis.call('HMGET', hash, 'e', 'g')
  if state[1] and state[2] == RUN_ID then return state[1], false end
  redis.call('HSET', hash, 'e', epoch, 'g', RUN_ID)
  return epoch, not state[1]
end
