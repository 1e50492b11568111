-- Returns one expired lease to the head of its env queue with attempts + 1, if its deadline has passed by Redis TIME and attempts remain.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- KEYS[3] active orgs set of the shard
-- KEYS[4] active envs set of the org
-- KEYS[5] lease set of the shard
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease member, "<org>:<env>:<run>"
-- ARGV[3] org member (encoded org id)
-- ARGV[4] env member (encoded env id)
-- ARGV[5] most deliveries (the buffer's retry.maxAttempts)
-- Returns: {"reaped"} the entry is queued again
-- Returns: {"skipped"} the lease is gone or not yet expired (another reaper, an ack or an extend won)
-- Returns: {"exhausted", `<acceptedAt>|<snapshot>`} this expiry uses up the attempts: nothing was changed, the caller fails it

--@include shard-fence
local entries = KEYS[1]
local queue = KEYS[2]
local orgs = KEYS[3]
local org_envs = KEYS[4]
local leases = KEYS[5]
local run = ARGV[1]
local member = ARGV[2]
local org = ARGV[3]
local env = ARGV[4]
local max_attempts = tonumber(ARGV[5])

--@include entry-record
--@include now-ms
--@include env-activity

local deadline = redis.call('ZSCORE', leases, member)
if not deadline or tonumber(deadline) > now_ms() then
  return { 'skipped' }
end
local kept = redis.call('HMGET', entries, run, run .. F_ATTEMPTS)
if not kept[1] then
  redis.call('ZREM', leases, member)
  return { 'skipped' }
end
-- The same bound as retry: the delivery that just expired counts as a failed attempt.
if tonumber(kept[2] or '0') + 1 >= max_attempts then
  return { 'exhausted', kept[1] }
end
redis.call('ZREM', leases, member)
-- Back to queued: no lease, no state field.
redis.call('HDEL', entries, run .. F_LEASE, run .. F_STATE)
redis.call('HINCRBY', entries, run .. F_ATTEMPTS, 1)
redis.call('LPUSH', queue, run)
activate_env(orgs, org_envs, org, env)
return { 'reaped' }
