-- Leases up to N ready entries of one env: pops them from the head of its queue into the lease set, scored by a deadline from Redis TIME.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- KEYS[3] active orgs set of the shard
-- KEYS[4] active envs set of the org
-- KEYS[5] lease set of the shard
-- ARGV[1] most entries to lease
-- ARGV[2] lease length in ms
-- ARGV[3] org member (encoded org id)
-- ARGV[4] env member (encoded env id)
-- ARGV[5] lease member prefix, "<org>:<env>:"
-- ARGV[6] lease token
-- Returns: {deadline, {run, `<acceptedAt>|<snapshot>`, attempts, then the mutation fields in record order
--   (lua/entry-record.json)}, ...} absent fields are nil; an entry never mutated ends after attempts

--@include shard-fence
local entries = KEYS[1]
local queue = KEYS[2]
local orgs = KEYS[3]
local org_envs = KEYS[4]
local leases = KEYS[5]
local count = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local org = ARGV[3]
local env = ARGV[4]
local member_prefix = ARGV[5]
local token = ARGV[6]

--@include entry-record
--@include now-ms
--@include env-activity

local deadline = now_ms() + lease_ms
local result = { deadline }
local popped = redis.call('LPOP', queue, count)
if not popped then
  return result
end
-- The deadline as text once: a number argument is formatted again on every use.
local score = tostring(deadline)
-- Every popped run's value, attempts and mutation marker, read in one call.
local wanted = {}
for _, run in ipairs(popped) do
  wanted[#wanted + 1] = run
  wanted[#wanted + 1] = run .. F_ATTEMPTS
  wanted[#wanted + 1] = run .. F_MUTATED
end
local read = redis.call('HMGET', entries, unpack(wanted))
local scored = {}
local marks = {}
for position, run in ipairs(popped) do
  local at = position * 3 - 2
  local value, attempts = read[at], read[at + 1]
  -- A queue member without a snapshot has nothing to deliver; dropping it keeps the queue moving.
  if value then
    -- The lease token alone marks the entry leased: no F_STATE field is written.
    marks[#marks + 1] = run .. F_LEASE
    marks[#marks + 1] = token
    scored[#scored + 1] = score
    scored[#scored + 1] = member_prefix .. run
    -- Mutation fields are read only for an entry a mutation marked: most never are.
    if read[at + 2] then
      result[#result + 1] = { run, value, attempts, unpack(redis.call('HMGET', entries, mutation_fields(run))) }
    else
      result[#result + 1] = { run, value, attempts }
    end
  end
end
if #marks > 0 then
  redis.call('HSET', entries, unpack(marks))
end
if #scored > 0 then
  redis.call('ZADD', leases, unpack(scored))
end
deactivate_env_if_empty(queue, orgs, org_envs, org, env)
return result
