/** Bounds of a numeric option; each is inclusive except `above`. */
export interface NumberBounds {
  readonly min?: number;
  readonly max?: number;
  /** An exclusive lower bound. */
  readonly above?: number;
}

/**
 * Checks of one options object. Every failure throws the error the owner's
 * package builds (code `INVALID_OPTIONS`) with one message format:
 * `"<XxxOptions>.<field> must be <expectation>, got <value>"`.
 */
export interface OptionChecks {
  /** The options type the messages name, e.g. `"DrainerOptions"`. */
  readonly owner: string;
  /** Throws for `path` with the given expectation, e.g. `"a function"`. */
  fail(path: string, expectation: string, value: unknown): never;
  /** `value` if it is a safe integer within `[min, max]`. */
  integer(path: string, value: unknown, min: number, max?: number): number;
  /** `value` if it is a finite number within the bounds. */
  number(path: string, value: unknown, bounds?: NumberBounds): number;
  /** `value` if it is a function. */
  function<T>(path: string, value: T): T;
  /** `value` if it is a non-null object. */
  object<T>(path: string, value: T): T;
}

/** How a value appears after `got` in a message. */
export function describeOptionValue(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint" || typeof value === "symbol") return String(value);
  if (typeof value === "number") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The one message format of an invalid option. */
export function invalidOptionMessage(
  owner: string,
  path: string,
  expectation: string,
  value: unknown,
): string {
  return `${owner}.${path} must be ${expectation}, got ${describeOptionValue(value)}`;
}

function rangeText(kind: string, min: number | undefined, max: number | undefined, above?: number): string {
  const lower = above !== undefined ? `> ${above}` : min !== undefined ? `>= ${min}` : undefined;
  if (min !== undefined && max !== undefined && above === undefined) return `${kind} from ${min} to ${max}`;
  if (lower !== undefined && max !== undefined) return `${kind} ${lower} and <= ${max}`;
  if (lower !== undefined) return `${kind} ${lower}`;
  if (max !== undefined) return `${kind} <= ${max}`;
  return kind;
}

/**
 * The option checks of one options type; `createError` builds the package's
 * own error (with code `INVALID_OPTIONS`) from a message.
 *
 * @example
 * const check = optionChecks("WidgetOptions", (message) => new WidgetError("INVALID_OPTIONS", message));
 * const size = check.integer("size", options.size ?? DEFAULT_SIZE, 1);
 */
export function optionChecks(owner: string, createError: (message: string) => Error): OptionChecks {
  const fail = (path: string, expectation: string, value: unknown): never => {
    throw createError(invalidOptionMessage(owner, path, expectation, value));
  };
  return {
    owner,
    fail,
    integer(path, value, min, max) {
      if (
        typeof value !== "number" ||
        !Number.isSafeInteger(value) ||
        value < min ||
        (max !== undefined && value > max)
      ) {
        return fail(path, rangeText("an integer", min, max), value);
      }
      return value;
    },
    number(path, value, bounds = {}) {
      const { min, max, above } = bounds;
      if (
        typeof value !== "number" ||
        !Number.isFinite(value) ||
        (min !== undefined && value < min) ||
        (max !== undefined && value > max) ||
        (above !== undefined && value <= above)
      ) {
        return fail(path, rangeText("a number", min, max, above), value);
      }
      return value;
    },
    function(path, value) {
      if (typeof value !== "function") fail(path, "a function", value);
      return value;
    },
    object(path, value) {
      if (typeof value !== "object" || value === null) fail(path, "an object", value);
      return value;
    },
  };
}
