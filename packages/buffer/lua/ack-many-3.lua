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
-- Each run's lease token and `:mutated` marker, and its lease-set score, read in two calls.
local marker_fields = {}
local members = {}
for index = 3, #ARGV, 3 do
  marker_fields[#marker_fields + 1] = ARGV[index] .. ':lease'
  marker_fields[#marker_fields + 1] = ARGV[index] .. ':mutated'
  members[#members + 1] = ARGV[index + 1]
end
local markers = redis.call('HMGET', entries, unpack(marker_fields))
local scores = redis.call('ZMSCORE', leases, unpack(members))
local doomed = {}
local released = {}
local seen = {}
local acked = 0
for position = 1, #members do
  local index = position * 3
  local run = ARGV[index]
  local member = members[position]
  -- What `ack` checks: the token matches and the lease is still in the lease set. A run
  -- listed twice in one call is acked once; `seen` stands in for ZREM answering 0.
  if markers[position * 2 - 1] == ARGV[index + 2] and scores[position] and not seen[member] then
    seen[member] = true
    released[#released + 1] = member
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
if #released > 0 then
  redis.call('ZREM', leases, unpack(released))
end
if #doomed > 0 then
  redis.call('HDEL', entries, unpack(doomed))
end
if acked > 0 then
  decrement_depth(depth, org_field, env_field, acked)
end
return results
