-- Sliding-window counter with an over-threshold hold, kept in one hash.
--
-- The window of `windowMs` is cut into `buckets` sub-buckets. Fields: `h` the
-- newest bucket index seen, `c` its count, `<index mod (buckets + 1)>` the
-- counts of the closed buckets still in the window (ring slots), `p` their
-- sum, `o` the last `now` at which the count was over the threshold (empty
-- when never).
--
-- The count (`p + c`) covers the current sub-bucket plus the `buckets` before
-- it, a span of at least `windowMs`, so it never under-counts a window:
-- admitting only while the count (this trigger included) is at most the
-- threshold admits at most `threshold` triggers in ANY window of `windowMs`.
-- The price is up to one sub-bucket of over-counting: a steady rate trips at
-- `threshold * buckets / (buckets + 1)` at the lowest.
--
-- Within a sub-bucket a trigger costs one HMGET and one HINCRBY; moving to a
-- new sub-bucket closes the current one and drops the expired slots.
local function countTrigger(key, now, nowText, windowMs, buckets, threshold, holdMs)
  local bucket = math.floor(now * buckets / windowMs)
  local slots = buckets + 1
  local state = redis.call('HMGET', key, 'h', 'p', 'c', 'o')
  local head = tonumber(state[1])
  local lastOver = tonumber(state[4])
  local count
  if head ~= nil and bucket <= head then
    -- A caller whose clock is behind the newest bucket counts into that
    -- bucket: the window never moves back, so skew cannot resurrect old slots.
    count = (tonumber(state[2]) or 0) + redis.call('HINCRBY', key, 'c', '1')
  else
    if head ~= nil and bucket - head < slots then
      local current = tonumber(state[3]) or 0
      local closed = (tonumber(state[2]) or 0) + current
      local expired = {}
      for index = head + 1, bucket do
        expired[#expired + 1] = index % slots
      end
      local counts = redis.call('HMGET', key, unpack(expired))
      for i = 1, #counts do
        closed = closed - (tonumber(counts[i]) or 0)
      end
      redis.call('HDEL', key, unpack(expired))
      redis.call('HSET', key, head % slots, current, 'h', bucket, 'p', closed, 'c', '1')
      count = closed + 1
    else
      -- New, or every slot is older than the window: start empty, keep the hold.
      if head ~= nil then
        redis.call('DEL', key)
      end
      -- Every field the hot path reads is written first, so it sits at the
      -- head of the hash's listpack and HMGET never scans the ring slots.
      redis.call('HSET', key, 'h', bucket, 'p', '0', 'c', '1', 'o', state[4] or '')
      count = 1
    end
    -- Refreshed once per sub-bucket: outlives the last live slot and the hold.
    redis.call('PEXPIRE', key, math.ceil(windowMs + 2 * windowMs / buckets + holdMs) + 1)
  end
  -- The hold runs on the window's timeline: a caller whose clock is behind
  -- the newest bucket is taken to be at that bucket's start, so a clock far
  -- behind (or far ahead) of the fleet cannot stretch a hold by its skew.
  local headStart = math.max(head or bucket, bucket) * windowMs / buckets
  local at = now
  if headStart > now then
    at = headStart
  end
  -- The hold is re-armed only by a trigger that finds the window over the
  -- threshold, never by triggers that merely arrive while it is held.
  if count > threshold then
    lastOver = at
    if at == now then
      redis.call('HSET', key, 'o', nowText)
    else
      redis.call('HSET', key, 'o', at)
    end
  end
  local holdRemaining = 0
  if lastOver ~= nil then
    holdRemaining = math.floor(math.max(0, math.min(holdMs, lastOver + holdMs - at)))
  end
  return count, holdRemaining
end
