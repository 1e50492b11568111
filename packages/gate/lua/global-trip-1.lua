-- Counts one trigger in one part of the fleet-wide budget (a sliding window) and answers whether that part is exceeded (over its threshold or held).
-- KEYS[1] the part's trip window hash (`{<prefix>:global}:gate:window` for a budget in one part, else
--         `{<prefix>:global:<i>:<k>}:gate:window`; each part on a slot of its own)
-- ARGV[1] now, epoch ms, from the caller's clock
-- ARGV[2] window length, ms
-- ARGV[3] sub-buckets per window
-- ARGV[4] threshold: most triggers this part admits in any window (its share of the fleet's budget)
-- ARGV[5] hold after the last over-threshold trigger, ms
-- Returns: {code, count, holdRemainingMs}
--   code 0: under budget (admit)
--   code 1: over the threshold now
--   code 2: under the threshold, but still held after being over
--   count: triggers counted in the part's window, this one included
local windowKey = KEYS[1]
local nowText = ARGV[1]
local now = tonumber(nowText)
local windowMs = tonumber(ARGV[2])
local buckets = tonumber(ARGV[3])
local threshold = tonumber(ARGV[4])
local holdMs = tonumber(ARGV[5])

--@include sliding-window

local count, holdRemaining = countTrigger(windowKey, now, nowText, windowMs, buckets, threshold, holdMs)
local code = 0
if count > threshold then
  code = 1
elseif holdRemaining > 0 then
  code = 2
end
return {code, count, holdRemaining}
