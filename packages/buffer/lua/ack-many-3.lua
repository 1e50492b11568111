-- Acknowledges leased entries of one or more envs in one call: each is removed only while its lease token still matches.
-- KEYS[1] entries hash of the first env
-- KEYS[2] lease set of its shard
-- KEYS[3] depth hash of its shard
-- KEYS[4...] the same three keys for each further env, in the order of the env groups in ARGV
-- ARGV[1] entries acked in the first env's group, n
-- ARGV[2] its org depth field
-- ARGV[3] its env depth field
-- ARGV[4...] n triples of run field, lease member "<org>:<env>:<run>", lease token (entries without an
--   idempotency key), then each further env's group as ARGV[1...] lays out the first
-- Returns: an array with one reply per triple, in order over all groups: "acked" | "lease_lost"

--@include shard-fence

--@include entry-record
--@include entry-removal

-- Fields deleted per HDEL call, well under Lua's unpack limit.
local FIELDS_PER_DELETE = 600

-- Acks one env's group, whose triples start at ARGV[first]; appends its replies to `results`.
local function ack_group(entries, leases, depth, org_field, env_field, first, count, results)
  if count == 0 then
    return
  end
  -- Each run's lease token and F_MUTATED marker, and its lease-set score, read in two calls.
  local marker_fields = {}
  local members = {}
  for index = first, first + count * 3 - 1, 3 do
    marker_fields[#marker_fields + 1] = ARGV[index] .. F_LEASE
    marker_fields[#marker_fields + 1] = ARGV[index] .. F_MUTATED
    members[#members + 1] = ARGV[index + 1]
  end
  local markers = redis.call('HMGET', entries, unpack(marker_fields))
  local scores = redis.call('ZMSCORE', leases, unpack(members))
  local doomed = {}
  local released = {}
  local seen = {}
  local acked = 0
  for position = 1, count do
    local index = first + (position - 1) * 3
    local run = ARGV[index]
    local member = members[position]
    -- What `ack` checks: the token matches and the lease is still in the lease set. A run
    -- listed twice in one call is acked once; `seen` stands in for ZREM answering 0.
    if markers[position * 2 - 1] == ARGV[index + 2] and scores[position] and not seen[member] then
      seen[member] = true
      released[#released + 1] = member
      acked = acked + 1
      results[#results + 1] = 'acked'
      -- Written out, reusing the F_LEASE field name read above: this runs once per entry. A
      -- leased entry has no F_STATE field (a lease writes none, and a retry's is deleted before
      -- the entry is queued again), so none is deleted.
      doomed[#doomed + 1] = run
      doomed[#doomed + 1] = run .. F_ATTEMPTS
      doomed[#doomed + 1] = marker_fields[position * 2 - 1]
      if markers[position * 2] then
        append_mutation_fields(doomed, run)
      end
      if #doomed >= FIELDS_PER_DELETE then
        redis.call('HDEL', entries, unpack(doomed))
        doomed = {}
      end
    else
      results[#results + 1] = 'lease_lost'
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
end

local results = {}
local at = 1
for group = 0, #KEYS / 3 - 1 do
  local count = tonumber(ARGV[at])
  ack_group(KEYS[group * 3 + 1], KEYS[group * 3 + 2], KEYS[group * 3 + 3], ARGV[at + 1], ARGV[at + 2], at + 3, count,
    results)
  at = at + 3 + count * 3
end
return results
