/** What `pnpm burst` was asked to send, checked. */
export interface BurstCliOptions {
  /** The app's origin; `undefined` to use (or start) the default one. */
  readonly url: string | undefined;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly orgs: number;
  readonly envsPerOrg: number;
  readonly skew: number;
  readonly idempotentShare: number;
  readonly out: string;
}

/** The defaults `pnpm burst --help` states. */
export const BURST_DEFAULTS = {
  rate: 400,
  duration: 5,
  orgs: 3,
  envs: 2,
  skew: 0.5,
  idempotent: 0.1,
  out: "burst-report.json",
} as const;

/** An option outside its range: the message names the option, its range and the value given. */
export class BurstOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BurstOptionError";
  }
}

interface Range {
  readonly min: number;
  readonly max: number;
  /** The minimum itself is excluded (a rate of 0 sends nothing). */
  readonly minExclusive?: boolean;
  readonly integer?: boolean;
}

const RANGES = {
  rate: { min: 0, max: 100_000, minExclusive: true },
  duration: { min: 0, max: 3_600, minExclusive: true },
  // The demo seeds three orgs with two envs each.
  orgs: { min: 1, max: 3, integer: true },
  envs: { min: 1, max: 2, integer: true },
  skew: { min: 0, max: 1 },
  idempotent: { min: 0, max: 1 },
} as const satisfies Record<string, Range>;

type NumericOption = keyof typeof RANGES;

function describeRange(range: Range): string {
  const kind = range.integer ? "an integer" : "a number";
  const low = range.minExclusive ? `above ${range.min}` : `from ${range.min}`;
  return `${kind} ${low} to ${range.max}`;
}

function numeric(values: Readonly<Record<string, string | undefined>>, name: NumericOption): number {
  const text = values[name];
  if (text === undefined) return BURST_DEFAULTS[name];
  const range: Range = RANGES[name];
  const value = text.trim() === "" ? Number.NaN : Number(text);
  const inRange =
    Number.isFinite(value) &&
    (range.minExclusive ? value > range.min : value >= range.min) &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!inRange)
    throw new BurstOptionError(`--${name} must be ${describeRange(range)}, got ${JSON.stringify(text)}`);
  return value;
}

/**
 * Checks `pnpm burst`'s options (as `util.parseArgs` gives them): every
 * number in its range, `--url` an http(s) origin. Throws
 * {@link BurstOptionError} for the first one that is not.
 */
export function parseBurstOptions(values: Readonly<Record<string, string | undefined>>): BurstCliOptions {
  let url: string | undefined;
  if (values.url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(values.url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:"))
      throw new BurstOptionError(
        `--url must be an http(s) origin such as http://127.0.0.1:3000, got ${JSON.stringify(values.url)}`,
      );
    url = values.url.replace(/\/$/, "");
  }
  return {
    url,
    ratePerSecond: numeric(values, "rate"),
    durationMs: numeric(values, "duration") * 1_000,
    orgs: numeric(values, "orgs"),
    envsPerOrg: numeric(values, "envs"),
    skew: numeric(values, "skew"),
    idempotentShare: numeric(values, "idempotent"),
    out: values.out ?? BURST_DEFAULTS.out,
  };
}

/** Share by which the achieved rate may miss the requested one before `pnpm burst` warns. */
export const RATE_TOLERANCE = 0.1;

/**
 * The rate a burst achieved: triggers sent over the time the schedule took
 * until the last one was sent, plus one interval (so a burst that kept its
 * schedule exactly achieves the requested rate).
 */
export function achievedRate(sent: number, lastSentAfterMs: number, requestedPerSecond: number): number {
  if (sent === 0) return 0;
  return (sent / (lastSentAfterMs + 1_000 / requestedPerSecond)) * 1_000;
}

/** A warning when the achieved rate differs from the requested one by more than {@link RATE_TOLERANCE}. */
export function rateWarning(requestedPerSecond: number, achievedPerSecond: number): string | undefined {
  const off = Math.abs(achievedPerSecond - requestedPerSecond) / requestedPerSecond;
  if (off <= RATE_TOLERANCE) return undefined;
  return `the burst achieved ${Math.round(achievedPerSecond)}/s, ${Math.round(off * 100)}% off the ${requestedPerSecond}/s asked for: the sender or the app could not keep up, so the figures describe a smaller burst`;
}
