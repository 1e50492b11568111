-- Accepts one trigger at the tail of its env queue unless its run id or idempotency key is buffered or a depth cap is hit.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- KEYS[3] active orgs set of the shard
-- KEYS[4] active envs set of the org
-- KEYS[5] depth hash of the shard
-- KEYS[6] idempotency index key of (env, task, key); any key of the slot when ARGV[9] is ""
-- ARGV[1] run field (encoded run id)
-- ARGV[2] snapshot text
-- ARGV[3] org member (encoded org id)
-- ARGV[4] env member (encoded env id)
-- ARGV[5] org depth field
-- ARGV[6] env depth field
-- ARGV[7] env depth cap, 0 for none
-- ARGV[8] org depth cap, 0 for none
-- ARGV[9] "1" when the trigger carries an idempotency key, else ""
-- ARGV[10] idempotency key expiry (epoch ms), 0 for none
-- Returns: {"accepted", position} position 0-based in the env queue
-- Returns: {"duplicate_run"}
-- Returns: {"duplicate_idempotency", winner run field}
-- Returns: {"over_capacity", "env" | "org", depth, limit}

--@include shard-fence
local entries = KEYS[1]
local queue = KEYS[2]
local orgs = KEYS[3]
local org_envs = KEYS[4]
local depth = KEYS[5]
local idempotency = KEYS[6]
local run = ARGV[1]
local snapshot = ARGV[2]
local org = ARGV[3]
local env = ARGV[4]
local org_field = ARGV[5]
local env_field = ARGV[6]
local env_cap = tonumber(ARGV[7])
local org_cap = tonumber(ARGV[8])
local has_idempotency = ARGV[9] == '1'
local idempotency_expires_at = tonumber(ARGV[10])

--@include now-ms
--@include env-activity
--@include accept-entry
--@include entry-value

-- With no idempotency key and no depth cap nothing but a duplicate run can refuse the entry,
-- so the write itself (HSETNX) is the duplicate check: one call fewer on the hot path.
local refusable = has_idempotency or env_cap > 0 or org_cap > 0
if refusable then
  if redis.call('HEXISTS', entries, run) == 1 then
    return { 'duplicate_run' }
  end
  if has_idempotency then
    local winner = redis.call('GET', idempotency)
    -- An index naming an entry that is gone is stale: the new run takes it over.
    if winner and redis.call('HEXISTS', entries, winner) == 1 then
      return { 'duplicate_idempotency', winner }
    end
  end
  local full = over_capacity(depth, org_field, env_field, env_cap, org_cap, 0)
  if full then
    return full
  end
end
-- No state field while queued: an absent state means queued, which saves a field per waiting entry.
if redis.call('HSETNX', entries, run, entry_value(now_ms(), snapshot)) == 0 then
  return { 'duplicate_run' }
end
local length = redis.call('RPUSH', queue, run)
if length == 1 then
  activate_env(orgs, org_envs, org, env)
end
count_depth(depth, org_field, env_field, 1)
if has_idempotency then
  if idempotency_expires_at > 0 then
    redis.call('SET', idempotency, run, 'PXAT', idempotency_expires_at)
  else
    redis.call('SET', idempotency, run)
  end
end
return { 'accepted', length - 1 }
