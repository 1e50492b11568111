-- Removes an entry's fields and its share of the depth counters.
local function delete_entry(entries, run)
  redis.call('HDEL', entries, run, run .. ':state', run .. ':acceptedAt', run .. ':attempts', run .. ':lease',
    run .. ':canceledAt', run .. ':cancelReason', run .. ':tags', run .. ':metadata', run .. ':metadataVersion',
    run .. ':delayUntil', run .. ':idempotencyReset')
end

local function decrement_depth(depth, org_field, env_field)
  for _, field in ipairs({ 'total', org_field, env_field }) do
    if redis.call('HINCRBY', depth, field, -1) <= 0 then
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
