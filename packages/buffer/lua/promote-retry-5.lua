-- Moves one due retry to the head of its env queue, if it is due by Redis TIME.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- KEYS[3] active orgs set of the shard
-- KEYS[4] active envs set of the org
-- KEYS[5] retry set of the shard
-- ARGV[1] run field (encoded run id)
-- ARGV[2] retry member, "<org>:<env>:<run>"
-- ARGV[3] org member (encoded org id)
-- ARGV[4] env member (encoded env id)
-- Returns: 1 when promoted, 0 when the retry is gone or not yet due (another promoter won)

--@include shard-fence
local entries = KEYS[1]
local queue = KEYS[2]
local orgs = KEYS[3]
local org_envs = KEYS[4]
local retries = KEYS[5]
local run = ARGV[1]
local member = ARGV[2]
local org = ARGV[3]
local env = ARGV[4]

--@include entry-record
--@include now-ms
--@include env-activity

local due_at = redis.call('ZSCORE', retries, member)
if not due_at or tonumber(due_at) > now_ms() then
  return 0
end
redis.call('ZREM', retries, member)
if redis.call('HEXISTS', entries, run) == 0 then
  return 0
end
-- Back to queued: no state field.
redis.call('HDEL', entries, run .. F_STATE)
redis.call('LPUSH', queue, run)
activate_env(orgs, org_envs, org, env)
return 1
