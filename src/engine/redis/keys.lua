-- Shared by every script (prepended when loaded). Key names come from keys.ts; a script that
-- reaches the keys of other client ids or topics joins a prefix and a suffix from there around
-- the id written length-first, "<bytes>:<id>", as keys.ts writes it.
local function id_key(prefix, id, suffix)
  return prefix .. #id .. ':' .. id .. suffix
end
