// The Lua runtime lives in @mollifier/core, shared with the gate and the drainer; the buffer's
// operation modules and its generated scripts import it through this one module.
export {
  defineLuaScript,
  type LuaArgument,
  type LuaArguments,
  type LuaKeys,
  type LuaScript,
  type RedisClient,
  runLuaScript,
  type Tuple,
} from "@mollifier/core";
