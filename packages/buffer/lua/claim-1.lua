-- Claims an idempotency key for one owner token, or reports who holds it.
-- KEYS[1] the claim hash, T:claim:<org>:<env>:<task>:<key> (fields state, token, runId)
-- ARGV[1] the caller's owner token
-- ARGV[2] lifetime of a new claim in ms (clamped by the caller)
-- Returns:
--   {'claimed'}           the caller owns the pending claim (new, or already its own: TTL renewed)
--   {'pending', ttlMs}    another owner holds it; it expires in ttlMs unless published or released
--   {'resolved', runId}   the key was published; runId is the winner's run

--@include shard-fence
local claimKey = KEYS[1]
local token = ARGV[1]
local ttlMs = ARGV[2]

local claim = redis.call('HMGET', claimKey, 'state', 'token', 'runId')
local state, owner, runId = claim[1], claim[2], claim[3]

if state == 'resolved' then
  return {'resolved', runId}
end
if state == 'pending' then
  if owner == token then
    redis.call('PEXPIRE', claimKey, ttlMs)
    return {'claimed'}
  end
  -- PTTL is -1/-2 only for a key without TTL or a missing key, which a pending claim never is.
  return {'pending', math.max(redis.call('PTTL', claimKey), 0)}
end

-- No claim (or a malformed one, which is replaced rather than left blocking the key forever).
redis.call('DEL', claimKey)
redis.call('HSET', claimKey, 'state', 'pending', 'token', token)
redis.call('PEXPIRE', claimKey, ttlMs)
return {'claimed'}
