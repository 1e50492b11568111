/** One second of the dashboard's series. */
export interface StatsPoint {
  /** Epoch ms of the start of the second. */
  readonly t: number;
  readonly passThrough: number;
  readonly shadowLog: number;
  readonly mollify: number;
  readonly depth: number;
  readonly oldestEntryAgeMs: number;
  readonly drained: number;
  readonly dbWrites: number;
  readonly apiP50: number;
  readonly apiP99: number;
  readonly requests: number;
}

/** What `/dashboard/stats` answers. */
export interface StatsSnapshot {
  readonly mode: string;
  readonly now: number;
  readonly series: StatsPoint[];
  readonly totals: {
    readonly decisions: Record<string, number>;
    readonly buffered: number;
    readonly drained: number;
    readonly failed: number;
    readonly dbWrites: number;
    readonly dbMaxInFlight: number;
    readonly dbWriteLimit: number;
    readonly runsInDatabase: number;
  };
  readonly current: {
    readonly depth: number;
    readonly oldestEntryAgeMs: number;
    readonly leasesInFlight: number;
  };
  readonly limits: { readonly envRatePerSecond: number; readonly drainRatePerSecond: number };
  readonly burst: { readonly running: boolean; readonly lastReport?: unknown };
}
