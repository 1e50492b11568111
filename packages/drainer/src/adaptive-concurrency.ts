import { DrainerError, requireInteger, requireNumber } from "./drainer-error.js";

/** Default handler latency (p90 over a window) above which concurrency is cut. */
export const DEFAULT_TARGET_LATENCY_MS = 500;
/** Default share of failed handler calls in a window above which concurrency is cut. */
export const DEFAULT_MAX_ERROR_RATE = 0.1;
/** Default length of one evaluation window. */
export const DEFAULT_ADAPTIVE_WINDOW_MS = 1_000;
/** Default samples a window needs before it is evaluated. */
export const DEFAULT_ADAPTIVE_MIN_SAMPLES = 10;
/** Default multiplier applied on a cut. */
export const DEFAULT_DECREASE_FACTOR = 0.7;
/** Default additive step on a healthy window. */
export const DEFAULT_INCREASE_STEP = 1;

/** Options of {@link AdaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions {
  /** The ceiling: the drainer's configured `concurrency`. */
  maxConcurrency: number;
  /**
   * The floor.
   * @default 1
   */
  minConcurrency?: number;
  /**
   * Where the limit starts.
   * @default maxConcurrency
   */
  initialConcurrency?: number;
  /**
   * p90 handler latency (ms) above which a window counts as unhealthy.
   * @default 500
   */
  targetLatencyMs?: number;
  /**
   * Share of failed handler calls above which a window counts as unhealthy.
   * @default 0.1
   */
  maxErrorRate?: number;
  /**
   * Length of an evaluation window (ms of the injected clock).
   * @default 1000
   */
  windowMs?: number;
  /**
   * Samples a window needs before it is evaluated; a quiet window keeps
   * collecting.
   * @default 10
   */
  minSamples?: number;
  /**
   * Added to the limit after a healthy window.
   * @default 1
   */
  increaseStep?: number;
  /**
   * The limit is multiplied by this after an unhealthy window (rounded down,
   * never below `minConcurrency`).
   * @default 0.7
   */
  decreaseFactor?: number;
  /**
   * Clock in ms.
   * @default Date.now
   */
  clock?: () => number;
}

/** One finished handler call. */
export interface HandlerSample {
  readonly durationMs: number;
  /** The handler failed (with an error the caller counts as load-related). */
  readonly failed: boolean;
}

/**
 * AIMD concurrency control: every window, if the handler's p90 latency or
 * error rate is above target (the database is struggling) the limit is
 * multiplied by `decreaseFactor`; otherwise it grows by `increaseStep`, up to
 * `maxConcurrency`. Pure: feed it samples, read {@link limit}.
 */
export class AdaptiveConcurrency {
  private readonly options: Required<Omit<AdaptiveConcurrencyOptions, "initialConcurrency">>;
  private current: number;
  private windowStart: number;
  private durations: number[] = [];
  private failures = 0;

  constructor(options: AdaptiveConcurrencyOptions) {
    const maxConcurrency = requireInteger("adaptive.maxConcurrency", options.maxConcurrency, 1);
    const minConcurrency = requireInteger(
      "adaptive.minConcurrency",
      options.minConcurrency ?? 1,
      1,
      maxConcurrency,
    );
    this.options = {
      maxConcurrency,
      minConcurrency,
      targetLatencyMs: requireNumber(
        "adaptive.targetLatencyMs",
        options.targetLatencyMs ?? DEFAULT_TARGET_LATENCY_MS,
        0,
      ),
      maxErrorRate: requireNumber(
        "adaptive.maxErrorRate",
        options.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE,
        0,
        true,
      ),
      windowMs: requireNumber("adaptive.windowMs", options.windowMs ?? DEFAULT_ADAPTIVE_WINDOW_MS, 0),
      minSamples: requireInteger(
        "adaptive.minSamples",
        options.minSamples ?? DEFAULT_ADAPTIVE_MIN_SAMPLES,
        1,
      ),
      increaseStep: requireInteger("adaptive.increaseStep", options.increaseStep ?? DEFAULT_INCREASE_STEP, 1),
      decreaseFactor: requireNumber(
        "adaptive.decreaseFactor",
        options.decreaseFactor ?? DEFAULT_DECREASE_FACTOR,
        0,
      ),
      clock: options.clock ?? Date.now,
    };
    if (this.options.decreaseFactor >= 1) {
      throw new DrainerError("INVALID_OPTIONS", "adaptive.decreaseFactor must be below 1");
    }
    this.current = requireInteger(
      "adaptive.initialConcurrency",
      options.initialConcurrency ?? maxConcurrency,
      minConcurrency,
      maxConcurrency,
    );
    this.windowStart = this.options.clock();
  }

  /** The concurrency in force now. */
  get limit(): number {
    return this.current;
  }

  /** Records a sample; returns the new limit when this sample closed a window that changed it. */
  record(sample: HandlerSample): number | undefined {
    this.durations.push(sample.durationMs);
    if (sample.failed) this.failures += 1;
    const now = this.options.clock();
    if (now - this.windowStart < this.options.windowMs || this.durations.length < this.options.minSamples) {
      return undefined;
    }
    const sorted = [...this.durations].sort((a, b) => a - b);
    const p90 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)] ?? 0;
    const errorRate = this.failures / this.durations.length;
    this.durations = [];
    this.failures = 0;
    this.windowStart = now;
    const previous = this.current;
    const { minConcurrency, maxConcurrency, targetLatencyMs, maxErrorRate, increaseStep, decreaseFactor } =
      this.options;
    if (p90 > targetLatencyMs || errorRate > maxErrorRate) {
      this.current = Math.max(minConcurrency, Math.floor(this.current * decreaseFactor));
    } else {
      this.current = Math.min(maxConcurrency, this.current + increaseStep);
    }
    return this.current === previous ? undefined : this.current;
  }
}
