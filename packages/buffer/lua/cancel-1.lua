-- Marks a queued or retrying entry canceled, with a reason; the drainer materialises it as canceled.
-- KEYS[1] the entries hash of the env, T:entries:<org>:<env>
-- ARGV[1] run field (encoded run id)
-- ARGV[2] cancel reason
-- Returns:
--   {'canceled', at}           canceled now; at is epoch ms from Redis TIME
--   {'already_canceled', at}   canceled before (also while leased); nothing changed
--   {'busy'}                   the entry is leased; nothing changed
--   {'not_found'}              no such buffered entry

--@include shard-fence
local entries = KEYS[1]
local run = ARGV[1]
local reason = ARGV[2]

--@include entry-record
--@include now-ms

if redis.call('HEXISTS', entries, run) == 0 then
  return {'not_found'}
end
local canceled_at = redis.call('HGET', entries, run .. F_CANCELED_AT)
if canceled_at then
  return {'already_canceled', tonumber(canceled_at)}
end
if redis.call('HEXISTS', entries, run .. F_LEASE) == 1 then
  return {'busy'}
end
local at = now_ms()
redis.call('HSET', entries, run .. F_CANCELED_AT, at, run .. F_CANCEL_REASON, reason, run .. F_MUTATED, '1')
return {'canceled', at}
