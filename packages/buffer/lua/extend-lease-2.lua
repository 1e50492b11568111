-- Moves a held lease's deadline to Redis TIME plus the lease length.
-- KEYS[1] entries hash of the env
-- KEYS[2] lease set of the shard
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease member, "<org>:<env>:<run>"
-- ARGV[3] lease token
-- ARGV[4] lease length in ms
-- Returns: {"extended", deadline}
-- Returns: {"lease_lost"}

--@include shard-fence
local entries = KEYS[1]
local leases = KEYS[2]
local run = ARGV[1]
local member = ARGV[2]
local token = ARGV[3]
local lease_ms = tonumber(ARGV[4])

--@include entry-record
--@include now-ms

if redis.call('HGET', entries, run .. F_LEASE) ~= token or not redis.call('ZSCORE', leases, member) then
  return { 'lease_lost' }
end
local deadline = now_ms() + lease_ms
redis.call('ZADD', leases, 'XX', deadline, member)
return { 'extended', deadline }
