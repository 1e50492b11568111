-- The depth-cap check and the write shared by the accept scripts.
local function over_capacity(depth, org_field, env_field, env_cap, org_cap, adding)
  if env_cap > 0 then
    local current = tonumber(redis.call('HGET', depth, env_field) or '0') + adding
    if current >= env_cap then
      return { 'over_capacity', 'env', current, env_cap }
    end
  end
  if org_cap > 0 then
    local current = tonumber(redis.call('HGET', depth, org_field) or '0') + adding
    if current >= org_cap then
      return { 'over_capacity', 'org', current, org_cap }
    end
  end
  return nil
end

local function count_depth(depth, org_field, env_field, added)
  redis.call('HINCRBY', depth, 'total', added)
  redis.call('HINCRBY', depth, org_field, added)
  redis.call('HINCRBY', depth, env_field, added)
end
