-- Finds the buffered run holding an idempotency key; deletes an index whose entry is gone.
-- KEYS[1] the idempotency index, T:idem:<org>:<env>:<task>:<key> (a STRING: the run field)
-- KEYS[2] the entries hash of the same env, T:entries:<org>:<env>
-- Returns:
--   {'found', runField}   the index names this run (encoded run id), which is buffered
--   {'not_found'}         no index
--   {'stale'}             the index named a run no longer in the entries hash; it was deleted

--@include shard-fence
local idempotency = KEYS[1]
local entries = KEYS[2]

local run = redis.call('GET', idempotency)
if not run then
  return {'not_found'}
end
if redis.call('HEXISTS', entries, run) == 1 then
  return {'found', run}
end
-- Self-healing: an index left behind by a lost entry must not make later triggers wait on, or
-- resolve to, a run that will never exist.
redis.call('DEL', idempotency)
return {'stale'}
