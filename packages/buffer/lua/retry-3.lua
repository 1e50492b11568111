-- Schedules a held lease for a delayed retry, or answers exhausted when attempts or the time budget run out.
-- KEYS[1] entries hash of the env
-- KEYS[2] lease set of the shard
-- KEYS[3] retry set of the shard
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease/retry member, "<org>:<env>:<run>"
-- ARGV[3] lease token
-- ARGV[4] delay in ms
-- ARGV[5] most deliveries
-- ARGV[6] time budget from acceptedAt in ms, 0 for none
-- Returns: {"scheduled", dueAt, attempts}
-- Returns: {"exhausted", attempts} the entry stays leased
-- Returns: {"lease_lost"}

--@include shard-fence
local entries = KEYS[1]
local leases = KEYS[2]
local retries = KEYS[3]
local run = ARGV[1]
local member = ARGV[2]
local token = ARGV[3]
local delay_ms = tonumber(ARGV[4])
local max_attempts = tonumber(ARGV[5])
local max_elapsed_ms = tonumber(ARGV[6])

--@include entry-record
--@include now-ms
--@include entry-value

if redis.call('HGET', entries, run .. F_LEASE) ~= token or not redis.call('ZSCORE', leases, member) then
  return { 'lease_lost' }
end
local attempts = tonumber(redis.call('HGET', entries, run .. F_ATTEMPTS) or '0') + 1
local due_at = now_ms() + delay_ms
local accepted_at = entry_accepted_at(redis.call('HGET', entries, run)) or 0
if attempts >= max_attempts or (max_elapsed_ms > 0 and due_at - accepted_at > max_elapsed_ms) then
  return { 'exhausted', attempts }
end
redis.call('ZREM', leases, member)
redis.call('ZADD', retries, due_at, member)
redis.call('HDEL', entries, run .. F_LEASE)
redis.call('HSET', entries, run .. F_STATE, 'retrying', run .. F_ATTEMPTS, attempts)
return { 'scheduled', due_at, attempts }
