-- Deletes a resolved claim (its idempotency key was reset); a pending claim is left to its owner.
-- KEYS[1] the claim hash, T:claim:<org>:<env>:<task>:<key> (fields state, token, runId)
-- Returns:
--   {'reset'}          the resolved claim is gone; the next claimant wins
--   {'not_resolved'}   no claim, or a pending one; nothing changed

--@include shard-fence
local claimKey = KEYS[1]

if redis.call('HGET', claimKey, 'state') ~= 'resolved' then
  return {'not_resolved'}
end
redis.call('DEL', claimKey)
return {'reset'}
