-- Deletes a claim, only if the caller still owns it (the owner gives up without a run).
-- KEYS[1] the claim hash, T:claim:<org>:<env>:<task>:<key> (fields state, token, runId)
-- ARGV[1] the caller's owner token
-- Returns:
--   {'released'}    the claim is gone; the next claimant wins
--   {'not_owner'}   no claim, or another token holds it; nothing changed

--@include shard-fence
local claimKey = KEYS[1]
local token = ARGV[1]

-- Compare-and-delete: a late release from a stale owner must not erase a newer owner's claim.
if redis.call('HGET', claimKey, 'token') ~= token then
  return {'not_owner'}
end
redis.call('DEL', claimKey)
return {'released'}
