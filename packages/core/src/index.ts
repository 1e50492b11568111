export { answeredWithin } from "./answered-within.js";
export { type BackoffPolicy, backoffDelayMs } from "./backoff-delay.js";
export {
  crc16,
  crc16TwoByteSuffix,
  crc16UpdateAscii,
  evenSlotRanges,
  keySlot,
  SLOT_COUNT,
  type SlotRange,
} from "./crc16.js";
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
export { slotBalancedTags, slotBalancedTargetSlots } from "./slot-balanced-tags.js";
