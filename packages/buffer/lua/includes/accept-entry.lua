-- Appends one entry to its env queue unless the run is buffered or a depth cap is hit.
local function accept_entry(entries, queue, orgs, org_envs, depth, run, snapshot, org, env,
                            org_field, env_field, env_cap, org_cap, now)
  if redis.call('HEXISTS', entries, run) == 1 then
    return { 'duplicate_run' }
  end
  if env_cap > 0 then
    local current = tonumber(redis.call('HGET', depth, env_field) or '0')
    if current >= env_cap then
      return { 'over_capacity', 'env', current, env_cap }
    end
  end
  if org_cap > 0 then
    local current = tonumber(redis.call('HGET', depth, org_field) or '0')
    if current >= org_cap then
      return { 'over_capacity', 'org', current, org_cap }
    end
  end
  redis.call('HSET', entries, run, snapshot, run .. ':state', 'queued', run .. ':acceptedAt', now)
  local length = redis.call('RPUSH', queue, run)
  if length == 1 then
    activate_env(orgs, org_envs, org, env)
  end
  redis.call('HINCRBY', depth, 'total', 1)
  redis.call('HINCRBY', depth, org_field, 1)
  redis.call('HINCRBY', depth, env_field, 1)
  return { 'accepted', length - 1 }
end
