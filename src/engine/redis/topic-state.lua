-- Where a topic stands, read in its partition: {epoch, last seq}, or {} when it has no history
-- written under this Redis process (a new epoch comes with its next use).
-- KEYS[1] topic hash
local state = redis.call('HMGET', KEYS[1], 'e', 'l', 'g')
if not state[1] or state[3] ~= RUN_ID then return {} end
return {state[1], tonumber(state[2] or '0')}
