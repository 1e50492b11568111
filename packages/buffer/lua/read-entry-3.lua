-- Reads one entry's value, state, attempts, mutation fields, its position in the env queue when queued
-- and its lease deadline when leased.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- KEYS[3] lease set of the shard
-- ARGV[1] run field (encoded run id)
-- ARGV[2] lease member, "<org>:<env>:<run>"
-- Returns: {} when the entry is not buffered
-- Returns: {`<acceptedAt>|<snapshot>`, state (queued | leased | retrying), attempts, position, lease deadline,
--   then the mutation fields in record order (lua/entry-record.json)} absent fields (position unless
--   queued, lease deadline unless leased) are nil

--@include shard-fence
local entries = KEYS[1]
local queue = KEYS[2]
local leases = KEYS[3]
local run = ARGV[1]
local member = ARGV[2]

--@include entry-record

local fields = redis.call('HMGET', entries, run, run .. F_STATE, run .. F_ATTEMPTS, run .. F_LEASE,
  mutation_fields(run))
local value, state = fields[1], fields[2]
if not value then
  return {}
end
local position = false
local lease_deadline = false
if state then
  -- A state field is kept as it is (an entry an earlier version leased carries `leased`).
elseif fields[4] then
  -- A leased entry is told by its lease token; it carries no state field.
  state = 'leased'
  lease_deadline = redis.call('ZSCORE', leases, member)
else
  -- Queued entries carry no state field.
  state = 'queued'
  position = redis.call('LPOS', queue, run)
end
-- The mutation fields follow the four fields read above; absent ones are false, so none ends the reply early.
return { value, state, fields[3], position, lease_deadline, unpack(fields, 5) }
