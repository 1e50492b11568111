-- Stores the buffer's key layout the first time any process checks it, and answers what is stored.
-- KEYS[1] the layout record, {<prefix>}:layout (fields version, tagScheme, shardCount, and while a
--   reshard runs reshardTo and reshardMoved)
-- ARGV[1] layout version
-- ARGV[2] shard tag scheme
-- ARGV[3] shard count
-- Returns:
--   {'created'}                                                        no record was stored; this layout now is
--   {'stored', version, tagScheme, shardCount, reshardTo, reshardMoved}   the record already stored (false for a missing field)
local layoutKey = KEYS[1]
local version = ARGV[1]
local tagScheme = ARGV[2]
local shardCount = ARGV[3]

-- Written whole or not at all, so two processes starting together agree on one record.
if redis.call('EXISTS', layoutKey) == 0 then
  redis.call('HSET', layoutKey, 'version', version, 'tagScheme', tagScheme, 'shardCount', shardCount)
  return {'created'}
end
local stored = redis.call('HMGET', layoutKey, 'version', 'tagScheme', 'shardCount', 'reshardTo', 'reshardMoved')
return {'stored', stored[1], stored[2], stored[3], stored[4], stored[5]}
