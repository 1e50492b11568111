/** One bucket of the burst timeline. */
export interface BurstPoint {
  /** Start of the bucket, ms since the burst started. */
  readonly atMs: number;
  /** Requests the generator sent, per second. */
  readonly offeredPerSecond: number;
  /** Requests the API answered with success, per second. */
  readonly acceptedPerSecond: number;
  /** Rows the database wrote, per second. */
  readonly databaseWritesPerSecond: number;
  /** Entries in the buffer at the end of the bucket. */
  readonly bufferDepth: number;
}

/** The burst case's timeline, one point per bucket, for the chart. */
export interface BurstTimeline {
  readonly bucketMs: number;
  /** The database write limit (drain cap), per second, drawn as a reference line. */
  readonly databaseWriteLimitPerSecond: number;
  readonly points: readonly BurstPoint[];
}
