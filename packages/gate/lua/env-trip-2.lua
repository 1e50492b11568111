-- Counts one trigger in its env's sliding window and answers whether the env must divert (over the threshold, held after being over, or backlogged).
-- KEYS[1] the env's trip window hash (`<gatePrefix>:window`, in the env's shard slot)
-- KEYS[2] the shard's depth hash, kept by the buffer (`T:depth`)
-- ARGV[1] now, epoch ms, from the caller's clock
-- ARGV[2] window length, ms
-- ARGV[3] sub-buckets per window
-- ARGV[4] threshold: most triggers admitted in any window
-- ARGV[5] hold after the last over-threshold trigger, ms
-- ARGV[6] the env's field in the depth hash (`env:<org>:<env>`)
-- Returns: {code, count, backlog, holdRemainingMs}
--   code 0: under budget (admit)
--   code 1: over the threshold now
--   code 2: under the threshold, but still held after being over
--   code 3: under budget and not held, but the env has buffered entries
--   count: triggers counted in the window, this one included
--   backlog: the env's buffered entries (its depth field, 0 when absent)
local windowKey = KEYS[1]
local depthKey = KEYS[2]
local nowText = ARGV[1]
local now = tonumber(nowText)
local windowMs = tonumber(ARGV[2])
local buckets = tonumber(ARGV[3])
local threshold = tonumber(ARGV[4])
local holdMs = tonumber(ARGV[5])
local depthField = ARGV[6]

--@include sliding-window

local count, holdRemaining = countTrigger(windowKey, now, nowText, windowMs, buckets, threshold, holdMs)
local backlog = tonumber(redis.call('HGET', depthKey, depthField)) or 0
local code = 0
if count > threshold then
  code = 1
elseif holdRemaining > 0 then
  code = 2
elseif backlog > 0 then
  code = 3
end
return {code, count, backlog, holdRemaining}
