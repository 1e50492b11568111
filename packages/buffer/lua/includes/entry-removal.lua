-- Removes an entry's fields and its share of the depth counters.
--@include entry-record

-- Appends the mutation fields of `run` in the entries hash to `fields`.
local function append_mutation_fields(fields, run)
  for _, suffix in ipairs(MUTATION_FIELD_SUFFIXES) do
    fields[#fields + 1] = run .. suffix
  end
  return fields
end

-- Appends the fields of `run` in the entries hash to `fields`: the mutation
-- fields too unless `mutated` is false (the caller read no F_MUTATED marker).
local function append_entry_fields(fields, run, mutated)
  for _, suffix in ipairs(ENTRY_FIELD_SUFFIXES) do
    fields[#fields + 1] = run .. suffix
  end
  if mutated ~= false then
    append_mutation_fields(fields, run)
  end
  return fields
end

local function delete_entry(entries, run)
  redis.call('HDEL', entries, unpack(append_entry_fields({}, run)))
end

-- Takes `count` entries (1 when nil) off the total, org and env depth counters.
local function decrement_depth(depth, org_field, env_field, count)
  local amount = count or 1
  for _, field in ipairs({ 'total', org_field, env_field }) do
    if redis.call('HINCRBY', depth, field, -amount) <= 0 then
      redis.call('HDEL', depth, field)
    end
  end
end

-- The idempotency index is released only while it still names this run.
local function release_idempotency(idempotency, run)
  if redis.call('GET', idempotency) == run then
    redis.call('DEL', idempotency)
  end
end
