import type { BenchCase } from "./bench-case.js";
import { acceptCase } from "./cases/accept.js";
import { acceptBatchCase } from "./cases/accept-batch.js";
import { burstCase } from "./cases/burst.js";
import { clusterCase } from "./cases/cluster.js";
import { drainCase } from "./cases/drain.js";
import { fairnessCase } from "./cases/fairness.js";
import { gateEvaluationCase } from "./cases/gate-evaluation.js";
import { gateOverheadCase } from "./cases/gate-overhead.js";
import { httpCase } from "./cases/http.js";
import { memoryCase } from "./cases/memory.js";

/** Every case, in the order a full run measures them. */
export const benchCases: readonly BenchCase[] = [
  gateEvaluationCase,
  gateOverheadCase,
  acceptCase,
  acceptBatchCase,
  memoryCase,
  drainCase,
  fairnessCase,
  clusterCase,
  burstCase,
  httpCase,
];
