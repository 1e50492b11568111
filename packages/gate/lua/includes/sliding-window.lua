-- Sliding-window counter with an over-threshold hold, kept in one hash.
--
-- The window of `windowMs` is cut into `buckets` sub-buckets; the hash keeps
-- `buckets + 1` ring slots (field = bucket index mod slots), `h` (the newest
-- bucket index seen), `s` (the sum of the live slots) and `o` (the last `now`
-- at which the count was over the threshold). The count covers the current
-- sub-bucket plus the `buckets` before it, a span of at least `windowMs`, so it
-- never under-counts a window: admitting only while the count (this trigger
-- included) is at most the threshold admits at most `threshold` triggers in
-- ANY window of `windowMs`. The price is up to one sub-bucket of
-- over-counting, i.e. a steady rate trips at `threshold * buckets / (buckets + 1)`.
-- Advancing costs one HMGET/HDEL over the expired slots, amortised O(1).
local function countTrigger(key, now, windowMs, buckets, threshold, holdMs)
  local bucket = math.floor(now * buckets / windowMs)
  local slots = buckets + 1
  local state = redis.call('HMGET', key, 'h', 's', 'o')
  local head = tonumber(state[1])
  local sum = tonumber(state[2]) or 0
  local lastOver = tonumber(state[3])
  local advanced = false
  if head == nil then
    head = bucket
    advanced = true
  elseif bucket > head then
    if bucket - head >= slots then
      -- Every slot is older than the window; only the hold survives.
      redis.call('DEL', key)
      sum = 0
    else
      local expired = {}
      for index = head + 1, bucket do
        expired[#expired + 1] = index % slots
      end
      local counts = redis.call('HMGET', key, unpack(expired))
      for i = 1, #counts do
        sum = sum - (tonumber(counts[i]) or 0)
      end
      redis.call('HDEL', key, unpack(expired))
    end
    head = bucket
    advanced = true
  end
  -- A caller whose clock is behind the newest bucket counts into that bucket:
  -- the window never moves back, so a skewed clock cannot resurrect old slots.
  sum = sum + 1
  redis.call('HINCRBY', key, head % slots, 1)
  -- The hold is re-armed only by a trigger that finds the window over the
  -- threshold, never by triggers that merely arrive while it is held.
  if sum > threshold then
    lastOver = now
  end
  if lastOver ~= nil then
    redis.call('HSET', key, 'h', head, 's', sum, 'o', lastOver)
  else
    redis.call('HSET', key, 'h', head, 's', sum)
  end
  if advanced then
    -- Refreshed once per sub-bucket: outlives the last live slot and the hold.
    redis.call('PEXPIRE', key, math.ceil(windowMs + 2 * windowMs / buckets + holdMs) + 1)
  end
  local holdRemaining = 0
  if lastOver ~= nil then
    holdRemaining = math.max(0, math.min(holdMs, lastOver + holdMs - now))
  end
  return sum, holdRemaining
end
