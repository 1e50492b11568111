import { BufferKeys } from "@mollifier/buffer";
import { redisTopologies } from "@mollifier/testing";
import fc from "fast-check";
import { describe, expect } from "vitest";
import type { TripOutcome } from "./trip-evaluation.js";
import { RedisTripEvaluator } from "./trip-evaluator.js";

/**
 * The trip evaluator's specification as a plain model: every trigger is
 * counted in the bucket of its time (never before the newest bucket seen);
 * the count is the triggers in the newest bucket and the `buckets` before it;
 * the hold runs `holdMs` from the last trigger that found the count over the
 * threshold, a clock behind the newest bucket being read as that bucket's
 * start; the backlog makes an otherwise admitted trigger `backlogged`.
 */
class WindowModel {
  readonly #counted: number[] = [];
  #head = Number.NEGATIVE_INFINITY;
  #lastOver: number | undefined;

  constructor(
    readonly threshold: number,
    readonly windowMs: number,
    readonly holdMs: number,
    readonly buckets: number,
  ) {}

  hit(now: number, backlog: number) {
    this.#head = Math.max(this.#head, Math.floor((now * this.buckets) / this.windowMs));
    this.#counted.push(this.#head);
    const oldest = this.#head - this.buckets;
    const count = this.#counted.filter((bucket) => bucket >= oldest).length;
    // The hold runs on the window's timeline: never before the newest bucket's start.
    const at = Math.max(now, (this.#head * this.windowMs) / this.buckets);
    if (count > this.threshold) this.#lastOver = at;
    const holdRemainingMs =
      this.#lastOver === undefined
        ? 0
        : Math.floor(Math.max(0, Math.min(this.holdMs, this.#lastOver + this.holdMs - at)));
    const outcome: TripOutcome =
      count > this.threshold
        ? "per_env_rate"
        : holdRemainingMs > 0
          ? "per_env_rate"
          : backlog > 0
            ? "backlogged"
            : "under_budget";
    return { outcome, count, holdRemainingMs, backlog };
  }
}

type Step =
  | { kind: "advance"; ms: number }
  | { kind: "skew_back"; ms: number }
  | { kind: "burst"; count: number }
  | { kind: "backlog"; depth: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 8_000 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("skew_back" as const), ms: fc.integer({ min: 1, max: 4_000 }) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("burst" as const), count: fc.integer({ min: 1, max: 8 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("backlog" as const), depth: fc.integer({ min: 0, max: 2 }) }),
  },
);

const keys = new BufferKeys({ prefix: "gate-model" });

describe.each(redisTopologies)("the trip evaluator against its model on $name", ({ test }) => {
  test("random schedules (bursts, pauses, clocks running behind, backlog changes) get the model's every answer", async ({
    redis,
  }) => {
    await redis.ping();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          threshold: fc.integer({ min: 1, max: 12 }),
          // Simulated time only; long enough that the keys' real-time TTL never cuts a run short.
          windowMs: fc.constantFrom(5_000, 7_000, 10_000),
          // Holds longer than the window, so the window can fall back under the threshold mid-hold.
          holdMs: fc.constantFrom(0, 1_500, 6_000, 30_000),
          buckets: fc.constantFrom(1, 3, 7, 20),
          steps: fc.array(stepArbitrary, { minLength: 5, maxLength: 60, size: "max" }),
        }),
        async ({ threshold, windowMs, holdMs, buckets, steps }) => {
          run++;
          const envId = `env-${run}`;
          const env = keys.env("org", envId);
          const evaluator = new RedisTripEvaluator({
            redis,
            keys,
            tripThreshold: threshold,
            tripWindowMs: windowMs,
            tripHoldMs: holdMs,
            tripBuckets: buckets,
          });
          const model = new WindowModel(threshold, windowMs, holdMs, buckets);
          let now = 1_700_000_000_000 + run * 1_000_003;
          let backlog = 0;
          for (const step of steps) {
            if (step.kind === "advance") now += step.ms;
            else if (step.kind === "skew_back") now -= step.ms;
            else if (step.kind === "backlog") {
              backlog = step.depth;
              await redis.hset(env.depth, env.envDepthField, backlog);
            } else {
              for (let index = 0; index < step.count; index++) {
                const actual = await evaluator.evaluate({ orgId: "org", envId, now });
                const { outcome, count, holdRemainingMs } = actual;
                expect({ outcome, count, holdRemainingMs, backlog: actual.backlog }).toEqual(
                  model.hit(now, backlog),
                );
              }
            }
          }
        },
      ),
      { numRuns: 60, seed: 20_261_122 },
    );
  });
});
