-- Acknowledges a leased entry: removes it from the buffer and releases its idempotency index.
-- KEYS[1] entries hash of the env
-- KEYS[2] lease set of the shard
-- KEYS[3] depth hash of the shard
-- KEYS[4] idempotency index key; any key of the slot when ARGV[6] is ""
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease member, "<org>:<env>:<run>"
-- ARGV[3] lease token
-- ARGV[4] org depth field
-- ARGV[5] env depth field
-- ARGV[6] "1" when the entry carries an idempotency key, else ""
-- Returns: {"acked"}
-- Returns: {"lease_lost"}

--@include shard-fence
local entries = KEYS[1]
local leases = KEYS[2]
local depth = KEYS[3]
local idempotency = KEYS[4]
local run = ARGV[1]
local member = ARGV[2]
local token = ARGV[3]
local org_field = ARGV[4]
local env_field = ARGV[5]
local has_idempotency = ARGV[6] == '1'

--@include entry-record
--@include entry-removal

if redis.call('HGET', entries, run .. F_LEASE) ~= token or redis.call('ZREM', leases, member) == 0 then
  return { 'lease_lost' }
end
delete_entry(entries, run)
decrement_depth(depth, org_field, env_field)
if has_idempotency then
  release_idempotency(idempotency, run)
end
return { 'acked' }
