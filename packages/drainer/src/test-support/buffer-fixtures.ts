import type { AcceptInput, MollifierBuffer } from "@mollifier/buffer";

/** A minimal trigger for `org`/`env`; run ids are unique per (org, env, index). */
export function trigger(orgId: string, envId: string, index: number): AcceptInput {
  return {
    runId: `run_${orgId}_${envId}_${index}`,
    orgId,
    envId,
    taskId: "task",
    payload: { index },
  };
}

/** Accepts `count` triggers per env, in batches; returns the run ids. */
export async function fill(
  buffer: MollifierBuffer,
  orgId: string,
  envIds: readonly string[],
  count: number,
  batchSize = 2_000,
): Promise<string[]> {
  const inputs: AcceptInput[] = [];
  for (const envId of envIds)
    for (let index = 0; index < count; index += 1) inputs.push(trigger(orgId, envId, index));
  for (let start = 0; start < inputs.length; start += batchSize) {
    const results = await buffer.acceptBatch(inputs.slice(start, start + batchSize));
    const rejected = results.find((result) => result.outcome !== "accepted");
    if (rejected !== undefined) throw new Error(`accept failed: ${JSON.stringify(rejected)}`);
  }
  return inputs.map((input) => input.runId);
}
