-- Settles the report of a failure the buffer made itself: it is no longer handed out.
-- KEYS[1] unreported-failures set of the shard
-- ARGV[1] member, "<org>:<env>:<run>"
-- Returns: 1 when it was waiting, 0 when it was settled already

--@include shard-fence
return redis.call('ZREM', KEYS[1], ARGV[1])
