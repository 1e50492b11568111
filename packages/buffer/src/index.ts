export {
  defineLuaScript,
  type LuaArgument,
  type LuaArguments,
  type LuaScript,
  type RedisClient,
  runLuaScript,
  type Tuple,
} from "./lua-script.js";
