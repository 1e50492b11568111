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
local keys = {
  entries = KEYS[1], leases = KEYS[2], depth = KEYS[3], failed = KEYS[4],
  idempotency = KEYS[5], unreported = KEYS[6], failed_index = KEYS[7],
}
local run = ARGV[1]
local member = ARGV[2]
local token = ARGV[3]

--@include entry-record
--@include now-ms
--@include failed-record

if redis.call('HGET', keys.entries, run .. F_LEASE) ~= token or redis.call('ZREM', keys.leases, member) == 0 then
  return { 'lease_lost' }
end
local kept = redis.call('HMGET', keys.entries, run, run .. F_ATTEMPTS)
fail_entry(keys, run, member, {
  value = kept[1], attempts = kept[2] or '0', error_text = ARGV[4], kind = ARGV[5], now = now_ms(),
  retention_ms = tonumber(ARGV[6]), org_field = ARGV[7], env_field = ARGV[8],
  has_idempotency = ARGV[9] == '1', report_retry_ms = tonumber(ARGV[10]),
})
return { 'failed' }
