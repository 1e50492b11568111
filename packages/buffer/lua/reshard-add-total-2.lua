-- Adds the entries a reshard moved from one old shard to a new shard's depth total, once.
-- KEYS[1] the new shard's depth hash, T:depth
-- KEYS[2] the new shard's record of totals already added, T:reshard-in
-- ARGV[1] the move, "<from>><to>:<old shard>"
-- ARGV[2] entries moved from that old shard into this one
-- Returns: 1 when added now, 0 when this move was added before (a resumed reshard)
local depth = KEYS[1]
local added = KEYS[2]
local move = ARGV[1]
local amount = ARGV[2]

if redis.call('HSETNX', added, move, amount) == 0 then return 0 end
redis.call('HINCRBY', depth, 'total', amount)
return 1
