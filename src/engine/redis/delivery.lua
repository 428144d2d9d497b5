-- Shared by every script (prepended when loaded): a delivery receipt. Appends it to the receipt
-- stream (its id is the cursor) and tells the nodes that follow receipts.
local function emit_delivery(stream, channel, maxlen, client, epoch, seq, topic, now)
  local id
  if topic then
    id = redis.call('XADD', stream, 'MAXLEN', maxlen, '*', 'c', client, 'e', epoch, 's', seq, 'tp', topic, 't', now)
  else
    id = redis.call('XADD', stream, 'MAXLEN', maxlen, '*', 'c', client, 'e', epoch, 's', seq, 't', now)
  end
  redis.call('PUBLISH', channel, cjson.encode({c = client, e = epoch, s = tonumber(seq), tp = topic, t = tonumber(now), id = id}))
end
