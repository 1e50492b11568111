export { type BackoffPolicy, backoffDelayMs } from "./backoff-delay.js";
export {
  defineLuaScript,
  isNoScriptError,
  type LuaArgument,
  type LuaArguments,
  type LuaKeys,
  type LuaScript,
  type RedisClient,
  runLuaScript,
  type Tuple,
} from "./lua-script.js";
export { hasBrand, INVALID_OPTIONS, MollifierError } from "./mollifier-error.js";
export {
  describeOptionValue,
  invalidOptionMessage,
  type NumberBounds,
  type OptionChecks,
  optionChecks,
} from "./option-checks.js";
