-- Returns one expired lease to the head of its env queue with attempts + 1, if its deadline has passed by Redis TIME.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- KEYS[3] active orgs set of the shard
-- KEYS[4] active envs set of the org
-- KEYS[5] lease set of the shard
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease member, "<org>:<env>:<run>"
-- ARGV[3] org member (encoded org id)
-- ARGV[4] env member (encoded env id)
-- Returns: 1 when reaped, 0 when the lease is gone or not yet expired (another reaper or an extend won)
local entries = KEYS[1]
local queue = KEYS[2]
local orgs = KEYS[3]
local org_envs = KEYS[4]
local leases = KEYS[5]
local run = ARGV[1]
local member = ARGV[2]
local org = ARGV[3]
local env = ARGV[4]

--@include now-ms
--@include env-activity

local deadline = redis.call('ZSCORE', leases, member)
if not deadline or tonumber(deadline) > now_ms() then
  return 0
end
redis.call('ZREM', leases, member)
if redis.call('HEXISTS', entries, run) == 0 then
  return 0
end
-- Back to queued: no lease, no state field.
redis.call('HDEL', entries, run .. ':lease', run .. ':state')
redis.call('HINCRBY', entries, run .. ':attempts', 1)
redis.call('LPUSH', queue, run)
activate_env(orgs, org_envs, org, env)
return 1
