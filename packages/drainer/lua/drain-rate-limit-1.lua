-- Takes up to ARGV[2] tokens from one bucket of the materialisation budget every drainer process shares (token buckets refilled by Redis TIME; the cap is spread over n buckets, each with 1/n of the rate and of the burst).
-- KEYS[1] the bucket: a hash with `tokens` (may be fractional) and `updatedAt` (ms, Redis TIME)
-- ARGV[1] rate: tokens added to this bucket per second (> 0, may be fractional)
-- ARGV[2] wanted: tokens asked for (integer >= 1)
-- ARGV[3] burst: the bucket's capacity in tokens (>= 1, may be fractional)
-- Returns:
--   {granted, waitMs}: granted is 0..wanted tokens taken now; when granted is 0, waitMs is the
--   time until min(wanted, burst) tokens are available, else 0: a caller that comes back then
--   takes the batch it asked for in one call, rather than one token per call at the rate
local bucketKey = KEYS[1]
local rate = tonumber(ARGV[1])
local wanted = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', bucketKey, 'tokens', 'updatedAt')
local tokens = tonumber(state[1])
local updatedAt = tonumber(state[2])
if tokens == nil or updatedAt == nil then
  tokens = burst
  updatedAt = now
end
-- A clock that stepped back (failover to a replica) refills nothing rather than going negative.
if now > updatedAt then
  tokens = math.min(burst, tokens + (now - updatedAt) * rate / 1000)
end

local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', bucketKey, 'tokens', tostring(tokens), 'updatedAt', now)
-- An idle bucket is full again after burst / rate seconds; it can go then.
redis.call('PEXPIRE', bucketKey, math.ceil(burst * 1000 / rate) + 1000)

local waitMs = 0
if granted == 0 then
  waitMs = math.ceil((math.max(1, math.min(wanted, math.floor(burst))) - tokens) * 1000 / rate)
end
return {granted, waitMs}
