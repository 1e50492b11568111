-- Accepts triggers of one env (without idempotency keys) at the tail of its queue, in order.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- KEYS[3] active orgs set of the shard
-- KEYS[4] active envs set of the org
-- KEYS[5] depth hash of the shard
-- ARGV[1] org member (encoded org id)
-- ARGV[2] env member (encoded env id)
-- ARGV[3] org depth field
-- ARGV[4] env depth field
-- ARGV[5] env depth cap, 0 for none
-- ARGV[6] org depth cap, 0 for none
-- ARGV[7...] pairs of run field, snapshot text
-- Returns: an array with one reply per pair, each as accept-6 answers:
-- {"accepted", position} | {"duplicate_run"} | {"over_capacity", scope, depth, limit}

--@include shard-fence
local entries = KEYS[1]
local queue = KEYS[2]
local orgs = KEYS[3]
local org_envs = KEYS[4]
local depth = KEYS[5]
local org = ARGV[1]
local env = ARGV[2]
local org_field = ARGV[3]
local env_field = ARGV[4]
local env_cap = tonumber(ARGV[5])
local org_cap = tonumber(ARGV[6])

--@include now-ms
--@include env-activity
--@include accept-entry
--@include entry-value

local now = now_ms()
local results = {}
local fields = {}
local runs = {}
local seen = {}
local length = redis.call('LLEN', queue)
for index = 7, #ARGV, 2 do
  local run = ARGV[index]
  local result
  if seen[run] or redis.call('HEXISTS', entries, run) == 1 then
    result = { 'duplicate_run' }
  else
    result = over_capacity(depth, org_field, env_field, env_cap, org_cap, #runs)
  end
  if not result then
    seen[run] = true
    runs[#runs + 1] = run
    fields[#fields + 1] = run
    fields[#fields + 1] = entry_value(now, ARGV[index + 1])
    result = { 'accepted', length + #runs - 1 }
  end
  results[#results + 1] = result
end
-- One write per key for the whole group keeps a large batch cheap; no state field while queued.
if #runs > 0 then
  redis.call('HSET', entries, unpack(fields))
  redis.call('RPUSH', queue, unpack(runs))
  if length == 0 then
    activate_env(orgs, org_envs, org, env)
  end
  count_depth(depth, org_field, env_field, #runs)
end
return results
