-- Writes an entry's FAILED record: what `getFailed` reads back (src/reads.ts).
--@include entry-record

-- Replaces `failed` with the record of `run`: its snapshot, acceptedAt, attempts, error, kind and
-- failedAt, and, when the entry was mutated while buffered (cancel, tags, metadata, delay,
-- idempotency reset), every mutation field as `mutation<suffix>` (`mutation:canceledAt`, ...), so
-- a replay or a failure row keeps what callers did to the run. Call it before the entry is removed.
local function write_failed_record(failed, entries, run, snapshot, accepted_at, attempts, error_text, kind, failed_at)
  redis.call('DEL', failed)
  redis.call('HSET', failed, 'snapshot', snapshot or '', 'acceptedAt', accepted_at or 0, 'attempts', attempts,
    'error', error_text, 'kind', kind, 'failedAt', failed_at)
  if redis.call('HGET', entries, run .. F_MUTATED) == '1' then
    for _, suffix in ipairs(MUTATION_FIELD_SUFFIXES) do
      local value = redis.call('HGET', entries, run .. suffix)
      if value then
        redis.call('HSET', failed, 'mutation' .. suffix, value)
      end
    end
  end
end

-- Lists `run` in its env's FAILED index (newest last by score), drops what is older than the
-- retention (those records have expired), and lets an idle env's index expire with its records.
local function index_failed(failed_index, run, failed_at, retention_ms)
  redis.call('ZADD', failed_index, failed_at, run)
  redis.call('ZREMRANGEBYSCORE', failed_index, '-inf', failed_at - retention_ms)
  redis.call('PEXPIRE', failed_index, retention_ms)
end
