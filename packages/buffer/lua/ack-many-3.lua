-- Acknowledges leased entries of one env in one call: each is removed only while its lease token still matches.
-- KEYS[1] entries hash of the env
-- KEYS[2] lease set of the shard
-- KEYS[3] depth hash of the shard
-- ARGV[1] org depth field
-- ARGV[2] env depth field
-- ARGV[3...] triples of run field, lease member "<org>:<env>:<run>", lease token; entries without an idempotency key
-- Returns: an array with one reply per triple, in order: "acked" | "lease_lost"
local entries = KEYS[1]
local leases = KEYS[2]
local depth = KEYS[3]
local org_field = ARGV[1]
local env_field = ARGV[2]

--@include entry-removal

-- Fields deleted per HDEL call, well under Lua's unpack limit.
local FIELDS_PER_DELETE = 600

local results = {}
if #ARGV < 3 then
  return results
end
-- Each run's lease token and `:mutated` marker, read in one call.
local marker_fields = {}
for index = 3, #ARGV, 3 do
  marker_fields[#marker_fields + 1] = ARGV[index] .. ':lease'
  marker_fields[#marker_fields + 1] = ARGV[index] .. ':mutated'
end
local markers = redis.call('HMGET', entries, unpack(marker_fields))
local doomed = {}
local acked = 0
for position = 1, #markers / 2 do
  local index = position * 3
  local run = ARGV[index]
  -- The token check and the lease-set removal are what `ack` does; ZREM answering 0 also
  -- catches a run listed twice in one call, so only one of them counts as acked.
  if markers[position * 2 - 1] == ARGV[index + 2] and redis.call('ZREM', leases, ARGV[index + 1]) == 1 then
    acked = acked + 1
    results[position] = 'acked'
    append_entry_fields(doomed, run, markers[position * 2] ~= false)
    if #doomed >= FIELDS_PER_DELETE then
      redis.call('HDEL', entries, unpack(doomed))
      doomed = {}
    end
  else
    results[position] = 'lease_lost'
  end
end
if #doomed > 0 then
  redis.call('HDEL', entries, unpack(doomed))
end
if acked > 0 then
  decrement_depth(depth, org_field, env_field, acked)
end
return results
