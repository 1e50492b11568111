-- Takes, keeps or gives back the lock a running reshard holds, compare-and-act on its token.
-- KEYS[1] the reshard lock, {<prefix>}:reshard-lock (a STRING holding the holder's token, with a TTL)
-- ARGV[1] 'acquire' | 'refresh' | 'release'
-- ARGV[2] the caller's token
-- ARGV[3] lock lifetime, ms (acquire and refresh)
-- Returns:
--   {'held'}                 acquired or refreshed: the caller holds the lock for ARGV[3] ms
--   {'released'}             released, or it was not held by the caller (nothing changed)
--   {'taken', token, pttl}   another reshard holds it, for pttl ms more
local lock = KEYS[1]
local op = ARGV[1]
local token = ARGV[2]
local ttl = tonumber(ARGV[3])

local holder = redis.call('GET', lock)
if op == 'release' then
  if holder == token then redis.call('DEL', lock) end
  return {'released'}
end
if holder and holder ~= token then
  return {'taken', holder, redis.call('PTTL', lock)}
end
if op == 'refresh' and not holder then
  -- The lock lapsed: someone may have taken it and given it back; the caller must not go on.
  return {'taken', '', 0}
end
redis.call('SET', lock, token, 'PX', ttl)
return {'held'}
