-- Shard fence (ADR 15). The client appends the fence key of every shard the call touches,
-- {<tag>}:fence, after the script's own keys. While a reshard moves a shard its fence holds
-- 'moving <from>><to>', then 'moved <from>><to>': the call is refused before any key is read,
-- and the client waits (moving) or re-routes to the new layout (moved). No reshard: one GET of
-- an absent key. The fence keys are popped, so the script below sees only its own KEYS.
while true do
  local fence_key = KEYS[#KEYS]
  if fence_key == nil or string.sub(fence_key, -7) ~= '}:fence' then break end
  KEYS[#KEYS] = nil
  local fence_state = redis.call('GET', fence_key)
  if fence_state then return redis.error_reply('MOLLIFIER_RESHARD ' .. fence_state) end
end
