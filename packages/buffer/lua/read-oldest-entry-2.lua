-- Reads Redis TIME and the acceptedAt of the entry at the head of an env queue.
-- KEYS[1] queue list of the env
-- KEYS[2] entries hash of the env
-- Returns: {now} when the queue is empty
-- Returns: {now, acceptedAt}

--@include shard-fence
local queue = KEYS[1]
local entries = KEYS[2]

--@include now-ms
--@include entry-value

local now = now_ms()
local head = redis.call('LINDEX', queue, 0)
if not head then
  return { now }
end
local accepted_at = entry_accepted_at(redis.call('HGET', entries, head))
if not accepted_at then
  return { now }
end
return { now, accepted_at }
