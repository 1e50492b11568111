import type { Redis, RedisOptions } from "ioredis";
import type { BurstTimeline } from "./burst-timeline.js";

/** How hard a run measures: `--quick` for smoke runs, full otherwise. */
export interface BenchSettings {
  readonly quick: boolean;
  /** Measured runs per figure; the figure is their median. */
  readonly runs: number;
  /** Unmeasured runs before the measured ones. */
  readonly warmups: number;
  /** Length of one closed-loop run, in ms. */
  readonly durationMs: number;
}

/** What a case gets from the harness. */
export interface CaseContext {
  readonly settings: BenchSettings;
  readonly redisHost: string;
  readonly redisPort: number;
  /** A new client on the bench Redis; the harness closes it after the case. */
  createClient(options?: RedisOptions): Redis;
  /** `FLUSHALL SYNC` on the bench Redis. */
  flush(): Promise<void>;
  /** Progress line on stderr. */
  log(message: string): void;
}

/** One measured figure: the median of its runs. */
export interface Figure {
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  /** The per-run values the median was taken over. */
  readonly runs?: readonly number[];
}

/** A target from the issue and whether this run met it. */
export interface TargetCheck {
  readonly label: string;
  /** The target as written, e.g. `≥ 1.5x`. */
  readonly target: string;
  /** The measured figure as text, e.g. `1.72x (23,100/s vs 13,400/s)`. */
  readonly measured: string;
  readonly pass: boolean;
}

/** What a case reports. */
export interface CaseOutcome {
  readonly figures: readonly Figure[];
  readonly checks: readonly TargetCheck[];
  /** Method notes and caveats printed under the case. */
  readonly notes: readonly string[];
  readonly timeline?: BurstTimeline;
}

/** The report of one case, as written to the results. */
export interface CaseReport extends Partial<CaseOutcome> {
  readonly name: string;
  readonly title: string;
  readonly status: "ran" | "not_run" | "failed";
  /** Why the case did not run or failed. */
  readonly reason?: string;
  readonly durationMs: number;
}

/** A benchmark case. */
export interface BenchCase {
  /** The `--case` name. */
  readonly name: string;
  readonly title: string;
  run(context: CaseContext): Promise<CaseOutcome>;
}

/** Thrown by a case that cannot run here (missing package feature, missing tool). */
export class CaseNotRunError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "CaseNotRunError";
  }
}
