-- Keeps `orgs` / `org-envs` exact: an env is listed while its queue is non-empty,
-- an org while it lists an env.
local function activate_env(orgs, org_envs, org, env)
  redis.call('SADD', org_envs, env)
  redis.call('SADD', orgs, org)
end

local function deactivate_env_if_empty(queue, orgs, org_envs, org, env)
  if redis.call('LLEN', queue) == 0 then
    redis.call('SREM', org_envs, env)
    if redis.call('SCARD', org_envs) == 0 then
      redis.call('SREM', orgs, org)
    end
  end
end
