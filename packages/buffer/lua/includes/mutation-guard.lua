-- Why a buffered entry cannot be mutated now: 'not_found' when its snapshot is not in the
-- entries hash, 'busy' while it is leased (being materialised); nil when it can be mutated.
--@include entry-record
local function mutation_blocker(entries, run)
  if redis.call('HEXISTS', entries, run) == 0 then
    return 'not_found'
  end
  if redis.call('HEXISTS', entries, run .. F_LEASE) == 1 then
    return 'busy'
  end
  return nil
end
