-- Resolves a pending claim with the owner's run id, only if the caller still owns it.
-- KEYS[1] the claim hash, T:claim:<org>:<env>:<task>:<key> (fields state, token, runId)
-- ARGV[1] the caller's owner token
-- ARGV[2] the run id to publish
-- ARGV[3] lifetime of the resolved claim in ms (clamped by the caller)
-- Returns:
--   {'published'}   the claim now resolves to the run id (or already did, to the same run id)
--   {'not_owner'}   the claim expired, was released, is held by another token, or was
--                   already published with another run id; nothing changed

--@include shard-fence
local claimKey = KEYS[1]
local token = ARGV[1]
local runId = ARGV[2]
local ttlMs = ARGV[3]

local claim = redis.call('HMGET', claimKey, 'state', 'token', 'runId')
local state, owner, publishedRunId = claim[1], claim[2], claim[3]

-- Compare-and-act: a stale owner (its claim expired and someone else claimed) must never
-- overwrite the newer owner's claim.
if owner ~= token then
  return {'not_owner'}
end
if state == 'resolved' then
  -- Waiters may already have read the published run id; it never changes.
  if publishedRunId == runId then
    return {'published'}
  end
  return {'not_owner'}
end
if state ~= 'pending' then
  return {'not_owner'}
end

redis.call('HSET', claimKey, 'state', 'resolved', 'runId', runId)
redis.call('PEXPIRE', claimKey, ttlMs)
return {'published'}
