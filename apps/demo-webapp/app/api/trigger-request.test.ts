import { evaluateGate, type TripEvaluator } from "@mollifier/gate";
import { describe, expect, test } from "vitest";
import type { SeededEnvironment } from "../engine/seed.server";
import { gateCascadeFor } from "../mollifier/package-gate.server";
import { bypassFacts, DEFAULT_IDEMPOTENCY_TTL_MS, triggerRequestOf } from "./trigger-request";
import type { TriggerBody, TriggerOptions } from "./trigger-schema";

const ENV: SeededEnvironment = {
  orgId: "org_acme",
  orgName: "Acme",
  envId: "env_prod",
  envSlug: "prod",
  apiKey: "key",
};
const NOW = 1_700_000_000_000;

/** An evaluator that would divert everything, so a pass-through can only be a bypass. */
const tripping: TripEvaluator = {
  evaluate: async () => ({
    outcome: "per_env_rate",
    tripped: true,
    count: 2,
    threshold: 1,
    windowMs: 1_000,
    holdRemainingMs: 0,
    backlog: 0,
  }),
};

async function reasonFor(options: TriggerOptions, batch: boolean, batchSupport = false) {
  const request = triggerRequestOf({
    env: ENV,
    taskId: "email",
    body: { options },
    batch,
    runId: "run_1",
    now: NOW,
  });
  const config = gateCascadeFor("mollify", {
    batchSupport,
    timeBudgetMs: 1_000,
    tripThreshold: 1,
    tripWindowMs: 1_000,
    tripHoldMs: 0,
    tripBuckets: 20,
  });
  const decision = await evaluateGate(request.gateInputs, {
    config,
    resolveEnrollment: () => true,
    evaluator: tripping,
  });
  return decision.reason;
}

describe("bypass classification", () => {
  test("a trigger's options become the gate's facts, nothing more", () => {
    expect(bypassFacts({}, false)).toEqual({
      debounce: false,
      oneTimeUseToken: false,
      parentWaiting: false,
      isBatchItem: false,
    });
    expect(bypassFacts({ debounce: { key: "d", delay: "5s" } }, false)).toMatchObject({ debounce: true });
    expect(bypassFacts({ oneTimeUseToken: "t" }, false)).toMatchObject({ oneTimeUseToken: true });
    expect(bypassFacts({ parentRunId: "run_p", resumeParentOnCompletion: true }, false)).toMatchObject({
      parentWaiting: true,
    });
    expect(bypassFacts({}, true)).toMatchObject({ isBatchItem: true });
  });

  test("a child run whose parent does not wait is not trigger-and-wait", () => {
    expect(bypassFacts({ parentRunId: "run_p" }, false)).toMatchObject({ parentWaiting: false });
  });

  test("the gate turns each fact into its bypass, in the cascade's order", async () => {
    expect(await reasonFor({ debounce: { key: "d", delay: "5s" }, oneTimeUseToken: "t" }, true)).toBe(
      "bypass_debounce",
    );
    expect(await reasonFor({ oneTimeUseToken: "t" }, true)).toBe("bypass_one_time_token");
    expect(await reasonFor({ parentRunId: "run_p", resumeParentOnCompletion: true }, false)).toBe(
      "bypass_trigger_and_wait",
    );
    expect(await reasonFor({}, true)).toBe("bypass_batch");
  });

  test("batch items reach the evaluator when batch support is on, and plain triggers always do", async () => {
    expect(await reasonFor({}, true, true)).toBe("per_env_rate");
    expect(await reasonFor({ parentRunId: "run_p" }, false)).toBe("per_env_rate");
  });
});

describe("the pending run", () => {
  test("resolves delay, idempotency expiry and tags once, at the trigger's time", () => {
    const body: TriggerBody = {
      payload: { to: "a@example.com" },
      options: { idempotencyKey: "order-42", idempotencyKeyTTL: "1h", tags: ["a", "a", "b"], delay: "30s" },
    };
    const { run, oneTimeUseToken } = triggerRequestOf({
      env: ENV,
      taskId: "email",
      body,
      batch: false,
      runId: "run_1",
      now: NOW,
    });
    expect(run).toEqual({
      runId: "run_1",
      orgId: "org_acme",
      envId: "env_prod",
      taskId: "email",
      payload: { to: "a@example.com" },
      createdAt: NOW,
      options: {
        idempotencyKey: "order-42",
        idempotencyKeyExpiresAt: NOW + 3_600_000,
        tags: ["a", "b"],
        delayUntil: NOW + 30_000,
      },
    });
    expect(oneTimeUseToken).toBeUndefined();
  });

  test("a key without a TTL lives a day; a TTL in seconds counts seconds; a debounce delays the run", () => {
    const at = (options: TriggerOptions) =>
      triggerRequestOf({ env: ENV, taskId: "t", body: { options }, batch: false, runId: "r", now: NOW }).run
        .options;
    expect(at({ idempotencyKey: "k" }).idempotencyKeyExpiresAt).toBe(NOW + DEFAULT_IDEMPOTENCY_TTL_MS);
    expect(at({ idempotencyKey: "k", idempotencyKeyTTL: 90 }).idempotencyKeyExpiresAt).toBe(NOW + 90_000);
    expect(at({ debounce: { key: "d", delay: "5s" } }).delayUntil).toBe(NOW + 5_000);
    expect(at({ delay: "2030-01-01T00:00:00Z" }).delayUntil).toBe(Date.parse("2030-01-01T00:00:00Z"));
  });
});
