import type { DecisionEvent, DegradedEvent, MollifierRecorder } from "@mollifier/telemetry";
import { describe, expect, test } from "vitest";
import { evaluateGate, type GateCascadeConfig, type GateDecision, type GateInputs } from "./evaluate-gate.js";
import { GateError } from "./gate-error.js";
import type { TripEvaluation, TripEvaluator, TripOutcome, TripRequest } from "./trip-evaluation.js";

interface RecordedEvents {
  readonly decisions: DecisionEvent[];
  readonly degradations: DegradedEvent[];
}

function recordingRecorder(): MollifierRecorder & RecordedEvents {
  const decisions: DecisionEvent[] = [];
  const degradations: DegradedEvent[] = [];
  const ignore = () => {};
  return {
    decisions,
    degradations,
    decision: (event) => decisions.push(event),
    degraded: (event) => degradations.push(event),
    buffered: ignore,
    drained: ignore,
    retried: ignore,
    failed: ignore,
    reaped: ignore,
    claim: ignore,
    drainLimits: ignore,
    bufferStats: ignore,
  };
}

function evaluation(outcome: TripOutcome): TripEvaluation {
  return {
    outcome,
    tripped: outcome !== "under_budget",
    count: 1,
    threshold: 10,
    windowMs: 1_000,
    holdRemainingMs: 0,
    backlog: outcome === "backlogged" ? 3 : 0,
  };
}

/** A fake evaluator: answers what the test says and remembers each request. */
function fakeEvaluator(answer: (request: TripRequest) => Promise<TripEvaluation>): TripEvaluator & {
  requests: TripRequest[];
} {
  const requests: TripRequest[] = [];
  return {
    requests,
    evaluate(request) {
      requests.push(request);
      return answer(request);
    },
  };
}

const CONFIG: GateCascadeConfig = {
  enabled: true,
  shadowMode: false,
  batchSupport: false,
  timeBudgetMs: 1_000,
};
const INPUTS: GateInputs = { orgId: "org-1", envId: "env-1", taskId: "task", runId: "run-1" };

describe("the cascade's truth table", () => {
  type Trip = "none" | "per_env" | "global";
  interface Row {
    enabled: boolean;
    debounce: boolean;
    oneTimeUseToken: boolean;
    parentWaiting: boolean;
    isBatchItem: boolean;
    batchSupport: boolean;
    enrolled: boolean;
    shadowMode: boolean;
    trip: Trip;
    backlogged: boolean;
  }
  const flags = [false, true];
  const rows: Row[] = [];
  for (const enabled of flags)
    for (const debounce of flags)
      for (const oneTimeUseToken of flags)
        for (const parentWaiting of flags)
          for (const isBatchItem of flags)
            for (const batchSupport of flags)
              for (const enrolled of flags)
                for (const shadowMode of flags)
                  for (const trip of ["none", "per_env", "global"] as const)
                    for (const backlogged of flags)
                      rows.push({
                        enabled,
                        debounce,
                        oneTimeUseToken,
                        parentWaiting,
                        isBatchItem,
                        batchSupport,
                        enrolled,
                        shadowMode,
                        trip,
                        backlogged,
                      });

  // The evaluator's own precedence (pinned against Redis in trip-evaluator.test.ts):
  // the env's rate, then its backlog, then the global budget.
  function evaluatorOutcome(row: Row): TripOutcome {
    if (row.trip === "per_env") return "per_env_rate";
    if (row.backlogged) return "backlogged";
    if (row.trip === "global") return "global_rate";
    return "under_budget";
  }

  // The specification, written as an ordered rule list independent of the implementation.
  function expected(row: Row): { action: string; reason: string; evaluated: boolean } {
    const rules: Array<[boolean, () => { action: string; reason: string; evaluated: boolean }]> = [
      [!row.enabled, () => ({ action: "pass_through", reason: "kill_switch", evaluated: false })],
      [row.debounce, () => ({ action: "pass_through", reason: "bypass_debounce", evaluated: false })],
      [
        row.oneTimeUseToken,
        () => ({ action: "pass_through", reason: "bypass_one_time_token", evaluated: false }),
      ],
      [
        row.parentWaiting,
        () => ({ action: "pass_through", reason: "bypass_trigger_and_wait", evaluated: false }),
      ],
      [
        row.isBatchItem && !row.batchSupport,
        () => ({ action: "pass_through", reason: "bypass_batch", evaluated: false }),
      ],
      [
        !row.enrolled && !row.shadowMode,
        () => ({ action: "pass_through", reason: "not_enrolled", evaluated: false }),
      ],
      [
        evaluatorOutcome(row) === "under_budget",
        () => ({ action: "pass_through", reason: "under_budget", evaluated: true }),
      ],
      [
        true,
        () => ({
          action: row.enrolled ? "mollify" : "shadow_log",
          reason: evaluatorOutcome(row),
          evaluated: true,
        }),
      ],
    ];
    const rule = rules.find(([applies]) => applies);
    if (rule === undefined) throw new Error("the rule list ends with a catch-all");
    return rule[1]();
  }

  test(`covers every combination (${rows.length} rows) with the right action, reason, evaluator calls and record`, async () => {
    for (const row of rows) {
      const recorder = recordingRecorder();
      const evaluator = fakeEvaluator(async () => evaluation(evaluatorOutcome(row)));
      const enrollmentCalls: string[] = [];
      const decision = await evaluateGate(
        {
          ...INPUTS,
          debounce: row.debounce,
          oneTimeUseToken: row.oneTimeUseToken,
          parentWaiting: row.parentWaiting,
          isBatchItem: row.isBatchItem,
        },
        {
          config: {
            ...CONFIG,
            enabled: row.enabled,
            batchSupport: row.batchSupport,
            shadowMode: row.shadowMode,
          },
          resolveEnrollment: async ({ orgId }) => {
            enrollmentCalls.push(orgId);
            return row.enrolled;
          },
          evaluator,
          clock: () => 42_000,
          recorder,
        },
      );
      const want = expected(row);
      const label = JSON.stringify(row);
      expect({ action: decision.action, reason: decision.reason }, label).toEqual({
        action: want.action,
        reason: want.reason,
      });
      expect(evaluator.requests, label).toEqual(
        want.evaluated ? [{ orgId: "org-1", envId: "env-1", now: 42_000 }] : [],
      );
      if ("evaluation" in decision) expect(decision.evaluation.outcome, label).toBe(evaluatorOutcome(row));
      if (decision.reason === "under_budget") expect(decision.shadow, label).toBe(!row.enrolled);
      // Enrollment is never resolved before the kill switch and the bypasses are passed.
      const reachedEnrollment =
        row.enabled &&
        !["bypass_debounce", "bypass_one_time_token", "bypass_trigger_and_wait", "bypass_batch"].includes(
          want.reason,
        ) &&
        want.reason !== "kill_switch";
      expect(enrollmentCalls, label).toEqual(reachedEnrollment ? ["org-1"] : []);
      expect(recorder.decisions, label).toEqual([
        { action: want.action, reason: want.reason, orgId: "org-1", envId: "env-1", runId: "run-1" },
      ]);
      expect(recorder.degradations, label).toEqual([]);
    }
  });
});

describe("fail-open", () => {
  async function decideWith(
    overrides: Partial<Parameters<typeof evaluateGate>[1]>,
  ): Promise<{ decision: GateDecision; recorder: ReturnType<typeof recordingRecorder> }> {
    const recorder = recordingRecorder();
    const decision = await evaluateGate(INPUTS, {
      config: CONFIG,
      resolveEnrollment: () => true,
      evaluator: fakeEvaluator(async () => evaluation("per_env_rate")),
      recorder,
      ...overrides,
    });
    return { decision, recorder };
  }

  test("an enrollment resolver that throws gives pass_through / degraded (flag_error)", async () => {
    const failure = new Error("flag store down");
    const { decision, recorder } = await decideWith({
      resolveEnrollment: () => {
        throw failure;
      },
    });
    expect(decision).toEqual({
      action: "pass_through",
      reason: "degraded",
      cause: "flag_error",
      error: failure,
    });
    expect(recorder.degradations).toEqual([
      {
        component: "gate",
        reason: "flag_error",
        error: failure,
        orgId: "org-1",
        envId: "env-1",
        runId: "run-1",
      },
    ]);
    expect(recorder.decisions).toEqual([
      { action: "pass_through", reason: "degraded", orgId: "org-1", envId: "env-1", runId: "run-1" },
    ]);
  });

  test("an enrollment resolver that never answers gives pass_through / degraded (timeout) once the budget is spent", async () => {
    const { decision, recorder } = await decideWith({
      config: { ...CONFIG, timeBudgetMs: 20 },
      resolveEnrollment: () => new Promise<boolean>(() => {}),
    });
    expect(decision).toEqual({ action: "pass_through", reason: "degraded", cause: "timeout" });
    expect(recorder.degradations.map((event) => event.reason)).toEqual(["timeout"]);
  });

  test("an evaluator that never answers gives pass_through / degraded (timeout) once the budget is spent", async () => {
    const { decision } = await decideWith({
      config: { ...CONFIG, timeBudgetMs: 20 },
      evaluator: fakeEvaluator(() => new Promise<TripEvaluation>(() => {})),
    });
    expect(decision).toEqual({ action: "pass_through", reason: "degraded", cause: "timeout" });
  });

  test("an evaluator that rejects after the budget ran out causes no unhandled rejection", async () => {
    let reject: (error: Error) => void = () => {};
    const { decision } = await decideWith({
      config: { ...CONFIG, timeBudgetMs: 10 },
      evaluator: fakeEvaluator(
        () =>
          new Promise<TripEvaluation>((_, rejectLater) => {
            reject = rejectLater;
          }),
      ),
    });
    expect(decision).toMatchObject({ reason: "degraded", cause: "timeout" });
    reject(new Error("late"));
    // vitest fails the run on an unhandled rejection; give it a turn to surface.
    await new Promise((resolve) => setImmediate(resolve));
  });

  test("an evaluator that rejects gives pass_through / degraded (evaluator_error)", async () => {
    const failure = new Error("ECONNRESET");
    const { decision, recorder } = await decideWith({
      evaluator: fakeEvaluator(() => Promise.reject(failure)),
    });
    expect(decision).toEqual({
      action: "pass_through",
      reason: "degraded",
      cause: "evaluator_error",
      error: failure,
    });
    expect(recorder.degradations.map((event) => event.reason)).toEqual(["evaluator_error"]);
  });

  test("an evaluator that throws synchronously still fails open", async () => {
    const { decision } = await decideWith({
      evaluator: {
        evaluate() {
          throw new Error("bug");
        },
      },
    });
    expect(decision).toMatchObject({ action: "pass_through", reason: "degraded", cause: "evaluator_error" });
  });

  test("a malformed script reply is reported as invalid_reply", async () => {
    const failure = new GateError("UNEXPECTED_REPLY", "env-trip answered null");
    const { decision } = await decideWith({ evaluator: fakeEvaluator(() => Promise.reject(failure)) });
    expect(decision).toMatchObject({ action: "pass_through", reason: "degraded", cause: "invalid_reply" });
  });

  test("a recorder that throws never changes or fails the decision", async () => {
    const throwing = recordingRecorder();
    throwing.decision = () => {
      throw new Error("recorder bug");
    };
    throwing.degraded = () => {
      throw new Error("recorder bug");
    };
    const decision = await evaluateGate(INPUTS, {
      config: CONFIG,
      resolveEnrollment: () => true,
      evaluator: fakeEvaluator(() => Promise.reject(new Error("down"))),
      recorder: throwing,
    });
    expect(decision).toMatchObject({ action: "pass_through", reason: "degraded" });
  });
});

describe("details of the cascade", () => {
  test("a synchronous enrollment resolver is honoured", async () => {
    const evaluator = fakeEvaluator(async () => evaluation("backlogged"));
    const decision = await evaluateGate(INPUTS, { config: CONFIG, resolveEnrollment: () => true, evaluator });
    expect(decision).toEqual({
      action: "mollify",
      reason: "backlogged",
      evaluation: evaluation("backlogged"),
    });
  });

  test("the evaluator counts with the injected clock's time, read once per decision", async () => {
    let now = 1_000;
    const evaluator = fakeEvaluator(async () => evaluation("under_budget"));
    const dependencies = { config: CONFIG, resolveEnrollment: () => true, evaluator, clock: () => now++ };
    await evaluateGate(INPUTS, dependencies);
    await evaluateGate(INPUTS, dependencies);
    expect(evaluator.requests.map((request) => request.now)).toEqual([1_000, 1_001]);
  });

  test("a batch item is evaluated like any trigger when batch support is on", async () => {
    const evaluator = fakeEvaluator(async () => evaluation("per_env_rate"));
    const decision = await evaluateGate(
      { ...INPUTS, isBatchItem: true },
      { config: { ...CONFIG, batchSupport: true }, resolveEnrollment: () => true, evaluator },
    );
    expect(decision).toMatchObject({ action: "mollify", reason: "per_env_rate" });
  });

  test("the first matching bypass names the decision", async () => {
    const evaluator = fakeEvaluator(async () => evaluation("per_env_rate"));
    const decision = await evaluateGate(
      { ...INPUTS, oneTimeUseToken: true, parentWaiting: true, isBatchItem: true },
      { config: CONFIG, resolveEnrollment: () => true, evaluator },
    );
    expect(decision).toEqual({ action: "pass_through", reason: "bypass_one_time_token" });
  });
});
