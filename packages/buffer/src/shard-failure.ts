/**
 * One shard that could not be read or swept, and why. On a Redis Cluster a
 * shard lives on one master: while that master fails over, the shards on the
 * healthy masters carry on and this names the ones that could not.
 */
export interface ShardFailure {
  readonly shard: number;
  /** The error, with a message that names the shard and its hash tag. */
  readonly error: Error;
}

/** Wraps a failed shard operation's error in an `Error` that names the shard (the cause is kept). */
export function shardFailure(shard: number, tag: string, operation: string, cause: unknown): ShardFailure {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return { shard, error: new Error(`${operation} failed on shard ${shard} (${tag}): ${reason}`, { cause }) };
}

/**
 * Runs `operation` on every shard at once. A shard whose call fails (its master is failing over)
 * is answered in `unavailable` and the others' results are kept; it throws only when no shard
 * could answer.
 */
export async function eachShard<T>(
  context: { readonly keys: { shards(): number[]; shard(shard: number): { readonly tag: string } } },
  what: string,
  operation: (shard: number) => Promise<T[]>,
): Promise<{ results: T[]; unavailable: ShardFailure[] }> {
  const shardNumbers = context.keys.shards();
  const perShard = await Promise.allSettled(shardNumbers.map(operation));
  const results: T[] = [];
  const unavailable: ShardFailure[] = [];
  perShard.forEach((outcome, index) => {
    const shard = shardNumbers[index] ?? index;
    if (outcome.status === "fulfilled") results.push(...outcome.value);
    else unavailable.push(shardFailure(shard, context.keys.shard(shard).tag, what, outcome.reason));
  });
  if (unavailable.length === shardNumbers.length && unavailable[0]) throw unavailable[0].error;
  return { results, unavailable };
}

/**
 * The active set a drainer's round reads: each active org with its active envs.
 * `unavailableShards` lists the shards that could not be read this time; their
 * orgs are missing until the next read succeeds, and every other shard's are here.
 */
export class ActiveSet extends Map<string, string[]> {
  constructor(
    entries: Iterable<readonly [string, string[]]>,
    readonly unavailableShards: readonly ShardFailure[] = [],
  ) {
    super(entries);
  }
}
