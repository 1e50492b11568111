-- Replaces a queued or retrying entry's metadata if its version is the one the caller read.
-- KEYS[1] the entries hash of the env, T:entries:<org>:<env>
-- ARGV[1] run field (encoded run id)
-- ARGV[2] metadata, JSON text (validated by the caller)
-- ARGV[3] expected current version (0 when never set)
-- Returns:
--   {'updated', version}            stored; version is the entry's new F_METADATA_VERSION
--   {'version_conflict', version}   the current version differs; nothing changed
--   {'busy'}                        the entry is leased; nothing changed
--   {'not_found'}                   no such buffered entry

--@include shard-fence
local entries = KEYS[1]
local run = ARGV[1]
local metadata = ARGV[2]
local expectedVersion = tonumber(ARGV[3])

--@include entry-record
--@include mutation-guard

local blocker = mutation_blocker(entries, run)
if blocker then
  return {blocker}
end
local version = tonumber(redis.call('HGET', entries, run .. F_METADATA_VERSION) or '0')
if version ~= expectedVersion then
  return {'version_conflict', version}
end
redis.call('HSET', entries, run .. F_METADATA, metadata, run .. F_METADATA_VERSION, version + 1,
  run .. F_MUTATED, '1')
return {'updated', version + 1}
