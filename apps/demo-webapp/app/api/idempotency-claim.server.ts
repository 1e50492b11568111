import type { ClaimRequest, ReadFallback } from "@mollifier/read-fallback";
import type { SeededEnvironment } from "../engine/seed.server";
import type { RunLookup } from "./run-lookup.server";
import type { TriggerRequest } from "./trigger-request";
import type { TriggerResponse } from "./trigger-response";

/** What claiming a trigger's idempotency key leads to. */
export type ClaimStep =
  /** Another request won the key: answer its run. */
  | { readonly outcome: "answered"; readonly response: TriggerResponse }
  /** This request owns the key until it publishes its run id or releases the claim. */
  | { readonly outcome: "claimed"; readonly request: ClaimRequest; readonly token: string }
  /** No claim (mode `off`, a wait that timed out, Redis down): go on without one. */
  | { readonly outcome: "unclaimed" };

const UNCLAIMED: ClaimStep = { outcome: "unclaimed" };

/** The claim protocol around a keyed trigger: claim, then publish the run id or release. */
export interface IdempotencyClaims {
  claim(env: SeededEnvironment, trigger: TriggerRequest, key: string): Promise<ClaimStep>;
  publish(claim: Extract<ClaimStep, { outcome: "claimed" }>, runId: string): Promise<void>;
  release(claim: Extract<ClaimStep, { outcome: "claimed" }>): Promise<void>;
}

export function createIdempotencyClaims(dependencies: {
  readonly readFallback: ReadFallback;
  readonly lookup: RunLookup;
  /** `false` in mode `off`: no claim is taken. */
  readonly usesRedis: boolean;
}): IdempotencyClaims {
  const { readFallback, lookup, usesRedis } = dependencies;
  return {
    async claim(env, trigger, key) {
      if (!usesRedis) return UNCLAIMED;
      const { run } = trigger;
      const request: ClaimRequest = {
        orgId: run.orgId,
        envId: run.envId,
        taskId: run.taskId,
        idempotencyKey: key,
        idempotencyKeyExpiresAt: run.options.idempotencyKeyExpiresAt,
      };
      const claim = await readFallback.claimOrAwait(request);
      if (claim.outcome === "claimed") return { outcome: "claimed", request, token: claim.token };
      if (claim.outcome === "resolved") {
        const winner =
          (await lookup.byId(env, claim.runId, true)) ??
          (await lookup.byIdempotencyKey(env, run.taskId, key));
        if (winner) return { outcome: "answered", response: winner };
      }
      // Timed out, Redis down, or the winner gone meanwhile: the buffer's index
      // and the database's unique key still keep one run per key.
      return UNCLAIMED;
    },
    async publish(claim, runId) {
      await readFallback.publish({ ...claim.request, token: claim.token, runId });
    },
    async release(claim) {
      await readFallback.release({ ...claim.request, token: claim.token });
    },
  };
}
