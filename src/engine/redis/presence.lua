-- Shared by every script (prepended when loaded): helpers of the scripts that change presence.
-- Appends one change to the presence stream (its id is the cursor) and tells every node, naming
-- the node that caused it (`origin`), so side effects such as webhooks run once in the cluster.
local function emit_presence(stream, channel, maxlen, client, state, reason, now, origin)
  local id = redis.call('XADD', stream, 'MAXLEN', maxlen, '*', 'c', client, 's', state, 'r', reason, 't', now)
  redis.call('PUBLISH', channel, cjson.encode({c = client, s = state, r = reason, t = tonumber(now), id = id, o = origin}))
  return id
end

-- Keeps a detached channel's keys at least `ttl` ms (a channel with a socket has no expiry).
local function keep_at_least(keys, ttl)
  for _, key in ipairs(keys) do
    local current = redis.call('PTTL', key)
    if current ~= -2 and current < ttl then redis.call('PEXPIRE', key, ttl) end
  end
end
