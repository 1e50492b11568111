import { jsonPayload } from "./payload.js";

/** Orgs the throughput cases spread their triggers over (one env each). */
export const BENCH_ORG_COUNT = 16;
/** The task every bench trigger names. */
export const BENCH_TASK_ID = "send-invoice";

const payload = jsonPayload();

/** The 1 KiB payload every accept and `Queue.add` carries. */
export function benchPayload(): Record<string, unknown> {
  return payload;
}

/** A trigger as `MollifierBuffer.accept` takes it: unique run id, 1 KiB payload, no options. */
export function triggerInput(runPrefix: string, sequence: number, orgCount = BENCH_ORG_COUNT) {
  return {
    runId: `${runPrefix}_${sequence}`,
    orgId: `org_${sequence % orgCount}`,
    envId: "env_prod",
    taskId: BENCH_TASK_ID,
    payload,
    options: {},
  };
}

/** A run-id prefix unique to this process and call, so repeated runs never collide. */
export function runPrefix(label: string): string {
  return `${label}_${process.pid}_${Date.now().toString(36)}`;
}
