/** Fields of one structured log event; they may carry run, org and env ids. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The structured logger the recorder writes events to, shaped so that pino,
 * winston or a `console` wrapper fit with a one-line adapter. `event` is a
 * stable name such as `mollifier.buffered`.
 *
 * @example
 * ```ts
 * const logger: MollifierLogger = {
 *   info: (event, fields) => pino.info(fields, event),
 *   warn: (event, fields) => pino.warn(fields, event),
 *   error: (event, fields) => pino.error(fields, event),
 * };
 * ```
 */
export interface MollifierLogger {
  info(event: string, fields: LogFields): void;
  warn(event: string, fields: LogFields): void;
  error(event: string, fields: LogFields): void;
}

/** The level a log event is written at. */
export type LogLevel = keyof MollifierLogger;

/** The names of the structured log events the recorder writes. */
export const LOG_EVENTS = {
  /** A trigger was offered to the buffer (any outcome); pairs with `drained` by `runId`. */
  buffered: "mollifier.buffered",
  /** A buffered entry was materialised and acknowledged. */
  drained: "mollifier.drained",
  /** A handler attempt failed and the entry was scheduled again. */
  retried: "mollifier.retried",
  /** An entry left the buffer as failed. */
  failed: "mollifier.failed",
  /** Expired leases were returned to their queue. */
  reaped: "mollifier.reaped",
  /** A component fell back to its safe default. */
  degraded: "mollifier.degraded",
  /** The recorder itself hit an error (a broken meter or logger); recording goes on. */
  recorderError: "mollifier.recorder_error",
} as const;
