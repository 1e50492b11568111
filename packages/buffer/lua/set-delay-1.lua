-- Sets when a queued or retrying entry's run may start; overrides the snapshot's delay.
-- KEYS[1] the entries hash of the env, T:entries:<org>:<env>
-- ARGV[1] run field (encoded run id)
-- ARGV[2] delay until, epoch ms
-- Returns:
--   {'updated'}     stored in the entry's F_DELAY_UNTIL field
--   {'busy'}        the entry is leased; nothing changed
--   {'not_found'}   no such buffered entry

--@include shard-fence
local entries = KEYS[1]
local run = ARGV[1]
local delay_until = ARGV[2]

--@include entry-record
--@include mutation-guard

local blocker = mutation_blocker(entries, run)
if blocker then
  return {blocker}
end
redis.call('HSET', entries, run .. F_DELAY_UNTIL, delay_until, run .. F_MUTATED, '1')
return {'updated'}
