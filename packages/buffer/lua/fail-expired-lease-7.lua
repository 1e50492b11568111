-- Fails an expired lease whose attempts are used up: keeps a FAILED record with a TTL and removes the entry from every queue and index.
-- KEYS[1] entries hash of the env
-- KEYS[2] lease set of the shard
-- KEYS[3] depth hash of the shard
-- KEYS[4] failed record of the run
-- KEYS[5] idempotency index key; any key of the slot when ARGV[8] is ""
-- KEYS[6] unreported-failures set of the shard
-- KEYS[7] FAILED index of the env
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease member, "<org>:<env>:<run>"
-- ARGV[3] most deliveries (the buffer's retry.maxAttempts)
-- ARGV[4] error text
-- ARGV[5] retention in ms
-- ARGV[6] org depth field
-- ARGV[7] env depth field
-- ARGV[8] "1" when the entry carries an idempotency key, else ""
-- ARGV[9] ms after which the failure may be reported again if nobody settled its report
-- Returns: {"failed", attempts}
-- Returns: {"skipped"} the lease is gone, not yet expired, or its attempts are not used up (another reaper, an ack or an extend won)

--@include shard-fence
local keys = {
  entries = KEYS[1], leases = KEYS[2], depth = KEYS[3], failed = KEYS[4],
  idempotency = KEYS[5], unreported = KEYS[6], failed_index = KEYS[7],
}
local run = ARGV[1]
local member = ARGV[2]
local max_attempts = tonumber(ARGV[3])

--@include entry-record
--@include now-ms
--@include failed-record

local now = now_ms()
local deadline = redis.call('ZSCORE', keys.leases, member)
if not deadline or tonumber(deadline) > now then
  return { 'skipped' }
end
local kept = redis.call('HMGET', keys.entries, run, run .. F_ATTEMPTS)
local attempts = tonumber(kept[2] or '0') + 1
if not kept[1] or attempts < max_attempts then
  return { 'skipped' }
end
redis.call('ZREM', keys.leases, member)
-- The reaper's caller reports it now; should that caller die first, claim-unreported hands it out again.
fail_entry(keys, run, member, {
  value = kept[1], attempts = attempts, error_text = ARGV[4], kind = 'attempts_exhausted', now = now,
  retention_ms = tonumber(ARGV[5]), org_field = ARGV[6], env_field = ARGV[7],
  has_idempotency = ARGV[8] == '1', report_retry_ms = tonumber(ARGV[9]),
})
return { 'failed', attempts }
