-- Deletes a retained FAILED record before its retention ends (an operator discarded or replayed it), with its place in the env's FAILED index and its unreported mark. A script, not a DEL, so that a live reshard's fence holds it while the record's shard is copied: a DEL during the copy would be undone by the copy.
-- KEYS[1] the FAILED record of the run
-- KEYS[2] unreported-failures set of the shard
-- KEYS[3] FAILED index of the env
-- ARGV[1] member, "<org>:<env>:<run>"
-- ARGV[2] run field (encoded run id)
-- Returns: 1 when a record was deleted, 0 when none was retained

--@include shard-fence
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[2])
return redis.call('DEL', KEYS[1])
