-- Reads an idempotency claim without changing it.
-- KEYS[1] the claim hash, T:claim:<org>:<env>:<task>:<key> (fields state, token, runId)
-- Returns:
--   {'none'}              no claim
--   {'pending', ttlMs}    an owner holds it; it expires in ttlMs unless published or released
--   {'resolved', runId}   the key was published; runId is the winner's run

--@include shard-fence
local claimKey = KEYS[1]

local claim = redis.call('HMGET', claimKey, 'state', 'runId')
local state, runId = claim[1], claim[2]

if state == 'resolved' then
  return {'resolved', runId}
end
if state == 'pending' then
  return {'pending', math.max(redis.call('PTTL', claimKey), 0)}
end
return {'none'}
