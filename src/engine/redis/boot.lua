-- Run by a node on every (re)connect before any other script: records which Redis process
-- serves the data now (see generation.lua). Loaded as it is, without the shared helpers.
-- KEYS[1] run id key (P:rid)
-- Returns {this process's run id, the run id recorded before (false when none)}.
local run_id = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local recorded = redis.call('GET', KEYS[1])
if recorded ~= run_id then redis.call('SET', KEYS[1], run_id) end
return {run_id, recorded}
