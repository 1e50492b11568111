-- Fails an entry for good: its FAILED record (what `getFailed` reads back, src/reads.ts), its place
-- in the env's FAILED index and the shard's unreported set, and the entry's removal. Every fail
-- script ends in `fail_entry`, so what failing does is written once.
--@include entry-record
--@include entry-removal
--@include entry-value

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

-- Fails `run` for good. `keys`: the fail scripts' keys (entries, depth, failed, idempotency,
-- unreported, failed_index; see src/fail.ts). `failure`: the entry's stored `value`, `attempts`,
-- `error_text`, `kind`, `now`, `retention_ms`, the depth fields `org_field` / `env_field`,
-- `has_idempotency`, and `report_retry_ms` when the buffer failed it itself (nil: the caller
-- reports it). The record and the index are kept `retention_ms`; the index drops what is older
-- (those records have expired) and expires with an idle env's records.
local function fail_entry(keys, run, member, failure)
  local now = failure.now
  local retention_ms = failure.retention_ms
  write_failed_record(keys.failed, keys.entries, run, entry_snapshot(failure.value),
    entry_accepted_at(failure.value), failure.attempts, failure.error_text, failure.kind, now)
  redis.call('PEXPIRE', keys.failed, retention_ms)
  redis.call('ZADD', keys.failed_index, now, run)
  redis.call('ZREMRANGEBYSCORE', keys.failed_index, '-inf', now - retention_ms)
  redis.call('PEXPIRE', keys.failed_index, retention_ms)
  if failure.report_retry_ms then
    -- Nobody has reported it yet: it waits in the unreported set until it is (claim-unreported).
    redis.call('ZADD', keys.unreported, now + failure.report_retry_ms, member)
  end
  delete_entry(keys.entries, run)
  decrement_depth(keys.depth, failure.org_field, failure.env_field)
  if failure.has_idempotency then
    release_idempotency(keys.idempotency, run)
  end
end
