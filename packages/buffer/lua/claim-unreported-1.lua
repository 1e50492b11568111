-- Hands out failures the buffer made itself whose report is due (never settled, by Redis TIME), each pushed back by the retry time so that two callers never get one failure at once.
-- KEYS[1] unreported-failures set of the shard
-- ARGV[1] most members to hand out
-- ARGV[2] ms after which a handed-out failure may be handed out again
-- Returns: the members handed out, "<org>:<env>:<run>", oldest due first

--@include shard-fence
--@include now-ms
local unreported = KEYS[1]
local limit = tonumber(ARGV[1])
local retry_ms = tonumber(ARGV[2])

local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', unreported, '-inf', now, 'LIMIT', 0, limit)
for _, member in ipairs(due) do
  redis.call('ZADD', unreported, now + retry_ms, member)
end
return due
