-- Reads one entry's value, state, attempts, mutation fields and, when queued, its position in the env queue.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- ARGV[1] run field (encoded run id)
-- Returns: {} when the entry is not buffered
-- Returns: {`<acceptedAt>|<snapshot>`, state (queued | leased | retrying), attempts, position, then the
--   mutation fields in record order (lua/entry-record.json)} absent fields (and position unless queued) are nil

--@include shard-fence
local entries = KEYS[1]
local queue = KEYS[2]
local run = ARGV[1]

--@include entry-record

local fields = redis.call('HMGET', entries, run, run .. F_STATE, run .. F_ATTEMPTS, run .. F_LEASE,
  mutation_fields(run))
local value, state = fields[1], fields[2]
if not value then
  return {}
end
local position = false
if state then
  -- A state field is kept as it is (an entry an earlier version leased carries `leased`).
elseif fields[4] then
  -- A leased entry is told by its lease token; it carries no state field.
  state = 'leased'
else
  -- Queued entries carry no state field.
  state = 'queued'
  position = redis.call('LPOS', queue, run)
end
-- The mutation fields follow the four fields read above; absent ones are false, so none ends the reply early.
return { value, state, fields[3], position, unpack(fields, 5) }
