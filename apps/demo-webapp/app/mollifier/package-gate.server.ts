import type { BufferKeys } from "@mollifier/buffer";
import {
  type EnrollmentResolver,
  evaluateGate,
  type GateCascadeConfig,
  type GateDependencies,
  RedisTripEvaluator,
} from "@mollifier/gate";
import type { MollifierRecorder } from "@mollifier/telemetry";
import type { Cluster, Redis } from "ioredis";
import type { AppConfig, GateSettings, MollifierMode } from "../config.server";
import type { AppGate } from "./gate-port";

/**
 * The cascade configuration of a mode: `off` is the kill switch, `shadow`
 * evaluates with shadow mode on, `dual-write` and `mollify` divert.
 */
export function gateCascadeFor(mode: MollifierMode, settings: GateSettings): GateCascadeConfig {
  return {
    enabled: mode !== "off",
    shadowMode: mode === "shadow",
    batchSupport: settings.batchSupport,
    timeBudgetMs: settings.timeBudgetMs,
  };
}

/** Which orgs a mode enrolls: none in `shadow` (decisions are only logged), else `enrolledOrgs`. */
export function enrollmentFor(
  mode: MollifierMode,
  enrolledOrgs: AppConfig["enrolledOrgs"],
): EnrollmentResolver {
  if (mode === "shadow") return () => false;
  if (enrolledOrgs === "*") return () => true;
  const enrolled = new Set(enrolledOrgs);
  return ({ orgId }) => enrolled.has(orgId);
}

/** `@mollifier/gate` configured for the app's mode, on the buffer's key layout. */
export function createPackageGate(options: {
  redis: Redis | Cluster;
  keys: BufferKeys;
  config: Pick<AppConfig, "mode" | "enrolledOrgs" | "gate">;
  recorder: MollifierRecorder;
}): AppGate {
  const { mode, enrolledOrgs, gate } = options.config;
  const dependencies: GateDependencies = {
    config: gateCascadeFor(mode, gate),
    resolveEnrollment: enrollmentFor(mode, enrolledOrgs),
    evaluator: new RedisTripEvaluator({ ...gate, redis: options.redis, keys: options.keys }),
    recorder: options.recorder,
  };
  return { decide: (inputs) => evaluateGate(inputs, dependencies) };
}
