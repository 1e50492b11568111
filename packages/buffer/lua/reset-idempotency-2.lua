-- Releases an idempotency key held by a buffered run, unless the run is leased (being materialised).
-- KEYS[1] the idempotency index, T:idem:<org>:<env>:<task>:<key> (a STRING: the run field)
-- KEYS[2] the entries hash of the same env, T:entries:<org>:<env>
-- Returns:
--   {'reset', runField}   the index is deleted and the run's F_IDEMPOTENCY_RESET is 1
--   {'busy'}              the run is leased; nothing changed (retry once it is materialised)
--   {'not_found'}         no index, or one naming a run no longer buffered (deleted)

--@include shard-fence
local idempotency = KEYS[1]
local entries = KEYS[2]

--@include entry-record

local run = redis.call('GET', idempotency)
if not run then
  return {'not_found'}
end
if redis.call('HEXISTS', entries, run) == 0 then
  redis.call('DEL', idempotency)
  return {'not_found'}
end
-- A leased run is being written to the database with its key; resetting here would race that write.
if redis.call('HEXISTS', entries, run .. F_LEASE) == 1 then
  return {'busy'}
end
redis.call('DEL', idempotency)
redis.call('HSET', entries, run .. F_IDEMPOTENCY_RESET, '1', run .. F_MUTATED, '1')
return {'reset', run}
