-- Reads one entry's snapshot, state fields and, when queued, its position in the env queue.
-- KEYS[1] entries hash of the env
-- KEYS[2] queue list of the env
-- ARGV[1] run field (encoded run id)
-- Returns: {} when the entry is not buffered
-- Returns: {`<acceptedAt>|<snapshot>`, state (queued | leased | retrying), attempts, canceledAt, cancelReason, tags, metadata, metadataVersion,
--   delayUntil, idempotencyReset, position} absent fields (and position unless queued) are nil
local entries = KEYS[1]
local queue = KEYS[2]
local run = ARGV[1]

local fields = redis.call('HMGET', entries, run, run .. ':state', run .. ':attempts',
  run .. ':canceledAt', run .. ':cancelReason', run .. ':tags', run .. ':metadata', run .. ':metadataVersion',
  run .. ':delayUntil', run .. ':idempotencyReset')
if not fields[1] then
  return {}
end
if fields[2] then
  fields[11] = false
elseif redis.call('HEXISTS', entries, run .. ':lease') == 1 then
  -- A leased entry is told by its lease token; it carries no state field.
  fields[2] = 'leased'
  fields[11] = false
else
  -- Queued entries carry no state field.
  fields[2] = 'queued'
  fields[11] = redis.call('LPOS', queue, run)
end
return fields
