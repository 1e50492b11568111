-- Gives a held lease up without spending an attempt: the entry goes back to the head of its env queue as it was before the lease (its consumer could not run it because a dependency was down, not because of the run).
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- KEYS[3] active orgs set of the shard
-- KEYS[4] active envs set of the org
-- KEYS[5] lease set of the shard
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease member, "<org>:<env>:<run>"
-- ARGV[3] lease token
-- ARGV[4] org member (encoded org id)
-- ARGV[5] env member (encoded env id)
-- Returns: {"released"} the entry is queued again, attempts unchanged
-- Returns: {"lease_lost"} the token no longer holds the lease (it expired and was reaped or leased again)

--@include shard-fence
local entries = KEYS[1]
local queue = KEYS[2]
local orgs = KEYS[3]
local org_envs = KEYS[4]
local leases = KEYS[5]
local run = ARGV[1]
local member = ARGV[2]
local token = ARGV[3]
local org = ARGV[4]
local env = ARGV[5]

--@include entry-record
--@include env-activity

if redis.call('HGET', entries, run .. F_LEASE) ~= token or redis.call('ZREM', leases, member) == 0 then
  return { 'lease_lost' }
end
-- Back to queued: no lease field.
redis.call('HDEL', entries, run .. F_LEASE)
redis.call('LPUSH', queue, run)
activate_env(orgs, org_envs, org, env)
return { 'released' }
