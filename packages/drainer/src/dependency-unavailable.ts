/**
 * Whether an error says the handler's dependency (the database) cannot be
 * reached at all, rather than that this run failed. The drainer answers such
 * errors with its circuit breaker and never with a run's attempts.
 *
 * The default recognises Node's network errors, PostgreSQL's connection and
 * shutdown states (SQLSTATE class `08`, `57P01`–`57P03`, `53300`) and the
 * `pg` client's and pool's words for a lost or refused connection, anywhere
 * along an error's `cause` chain or inside an `AggregateError`. Inject your own
 * (`DrainerOptions.isUnavailable`) for another database client.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  return someCause(error, (candidate) => {
    const code = typeof candidate.code === "string" ? candidate.code : undefined;
    if (code !== undefined && (NETWORK_CODES.has(code) || isUnavailableSqlState(code))) return true;
    const message = typeof candidate.message === "string" ? candidate.message : "";
    return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message));
  });
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
]);

function isUnavailableSqlState(code: string): boolean {
  // 08xxx: connection exceptions; 57P01-03: the server is shutting down or starting;
  // 53300: too many connections (the server is up but takes no more).
  return (
    /^08[0-9A-Z]{3}$/.test(code) ||
    code === "57P01" ||
    code === "57P02" ||
    code === "57P03" ||
    code === "53300"
  );
}

const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /connection ended unexpectedly/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
  /terminating connection due to administrator command/i,
  /the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/i,
  /cannot use a pool after calling end/i,
];

type ErrorLike = { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };

// Walks `cause` links and `AggregateError.errors`, with a bound against cycles.
function someCause(error: unknown, test: (candidate: ErrorLike) => boolean): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 32; seen++) {
    const candidate = pending.pop();
    if (typeof candidate !== "object" || candidate === null) continue;
    const like = candidate as ErrorLike;
    if (test(like)) return true;
    if (like.cause !== undefined) pending.push(like.cause);
    if (Array.isArray(like.errors)) pending.push(...like.errors);
  }
  return false;
}
