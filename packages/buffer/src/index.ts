export {
  BufferKeys,
  type BufferKeysOptions,
  DEFAULT_KEY_PREFIX,
  DEFAULT_SHARD_COUNT,
  type EnvKeys,
  type ShardKeys,
} from "./keys.js";
export {
  defineLuaScript,
  type LuaArgument,
  type LuaArguments,
  type LuaScript,
  type RedisClient,
  runLuaScript,
  type Tuple,
} from "./lua-script.js";
