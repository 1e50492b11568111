-- An entry's value under its bare run field is `<acceptedAt>|<snapshot>`: one field instead of two per entry.
local function entry_value(accepted_at, snapshot)
  return accepted_at .. '|' .. snapshot
end

-- The accept-time prefix (digits then a bar) of an entry value, or nil when the value is nil or lacks it.
local function entry_prefix(value)
  if not value then
    return nil
  end
  return string.match(value, '^%d+|')
end

-- The accept time (epoch ms) at the front of an entry value; nil when the value is nil or has no prefix.
local function entry_accepted_at(value)
  local prefix = entry_prefix(value)
  if not prefix then
    return nil
  end
  return tonumber(string.sub(prefix, 1, -2))
end

-- The snapshot text after the accept-time prefix (the whole value when it has none); nil for a nil value.
local function entry_snapshot(value)
  local prefix = entry_prefix(value)
  if not prefix then
    return value
  end
  return string.sub(value, #prefix + 1)
end
