-- Adds tags to a queued or retrying entry: merged with its current tags, deduplicated, capped.
-- KEYS[1] the entries hash of the env, T:entries:<org>:<env>
-- ARGV[1] run field (encoded run id)
-- ARGV[2] most tags an entry may carry
-- ARGV[3] the snapshot's own tags, JSON array (read by the caller: the snapshot never changes, and
--         decoding a payload of up to 1 MiB here would block the server for tens of ms)
-- ARGV[4...] tags to add (non-empty strings)
-- Returns:
--   {'updated', tagsJson}        all the entry's tags now (JSON array: the snapshot's, then added ones)
--   {'too_many_tags', limit}     the merged set would exceed limit; nothing changed
--   {'busy'}                     the entry is leased; nothing changed
--   {'not_found'}                no such buffered entry

--@include shard-fence
local entries = KEYS[1]
local run = ARGV[1]
local limit = tonumber(ARGV[2])
local snapshotTagsJson = ARGV[3]

--@include entry-record
--@include mutation-guard

local blocker = mutation_blocker(entries, run)
if blocker then
  return {blocker}
end

-- The entry's tags are its snapshot's own followed by its F_TAGS field, the tags added since accept.
local function decoded_list(text)
  local ok, value = pcall(cjson.decode, text)
  if ok and type(value) == 'table' then return value end
  return {}
end
local snapshotTags = decoded_list(snapshotTagsJson)
local stored = redis.call('HGET', entries, run .. F_TAGS)
local added = {}
if stored then added = decoded_list(stored) end

local tags, addedTags, seen = {}, {}, {}
local function add(tag, target)
  if type(tag) == 'string' and tag ~= '' and not seen[tag] then
    seen[tag] = true
    tags[#tags + 1] = tag
    if target then target[#target + 1] = tag end
  end
end
for _, tag in ipairs(snapshotTags) do add(tag, nil) end
for _, tag in ipairs(added) do add(tag, addedTags) end
local before = #tags
for index = 4, #ARGV do add(ARGV[index], addedTags) end

if #tags > before and #tags > limit then
  return {'too_many_tags', limit}
end
if #tags > before then
  redis.call('HSET', entries, run .. F_TAGS, cjson.encode(addedTags), run .. F_MUTATED, '1')
end
-- cjson encodes an empty table as an object, so an empty set is spelled out.
if #tags == 0 then
  return {'updated', '[]'}
end
return {'updated', cjson.encode(tags)}
