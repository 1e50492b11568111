-- Fails a held lease terminally: keeps a FAILED record with a TTL and removes the entry from every queue and index.
-- KEYS[1] entries hash of the env
-- KEYS[2] lease set of the shard
-- KEYS[3] depth hash of the shard
-- KEYS[4] failed record of the run
-- KEYS[5] idempotency index key; any key of the slot when ARGV[9] is ""
-- KEYS[6] unreported-failures set of the shard
-- KEYS[7] FAILED index of the env
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease member, "<org>:<env>:<run>"
-- ARGV[3] lease token
-- ARGV[4] error text
-- ARGV[5] failure kind
-- ARGV[6] retention in ms
-- ARGV[7] org depth field
-- ARGV[8] env depth field
-- ARGV[9] "1" when the entry carries an idempotency key, else ""
-- ARGV[10] ms after which the failure may be reported again, when the buffer failed it itself (invalid at lease); "" when the caller reports it
-- Returns: {"failed"}
-- Returns: {"lease_lost"}

--@include shard-fence
local entries = KEYS[1]
local leases = KEYS[2]
local depth = KEYS[3]
local failed = KEYS[4]
local idempotency = KEYS[5]
local unreported = KEYS[6]
local failed_index = KEYS[7]
local run = ARGV[1]
local member = ARGV[2]
local token = ARGV[3]
local error_text = ARGV[4]
local kind = ARGV[5]
local retention_ms = tonumber(ARGV[6])
local org_field = ARGV[7]
local env_field = ARGV[8]
local has_idempotency = ARGV[9] == '1'
local report_retry_ms = tonumber(ARGV[10])

--@include entry-record
--@include now-ms
--@include entry-removal
--@include entry-value
--@include failed-record

if redis.call('HGET', entries, run .. F_LEASE) ~= token or redis.call('ZREM', leases, member) == 0 then
  return { 'lease_lost' }
end
local kept = redis.call('HMGET', entries, run, run .. F_ATTEMPTS)
-- The FAILED record keeps snapshot and acceptedAt as separate fields.
local snapshot = entry_snapshot(kept[1])
local accepted_at = entry_accepted_at(kept[1])
local now = now_ms()
write_failed_record(failed, entries, run, snapshot, accepted_at, kept[2] or '0', error_text, kind, now)
redis.call('PEXPIRE', failed, retention_ms)
index_failed(failed_index, run, now, retention_ms)
if report_retry_ms then
  -- Nobody has reported this failure yet: it waits in the unreported set until it is (claim-unreported).
  redis.call('ZADD', unreported, now + report_retry_ms, member)
end
delete_entry(entries, run)
decrement_depth(depth, org_field, env_field)
if has_idempotency then
  release_idempotency(idempotency, run)
end
return { 'failed' }
