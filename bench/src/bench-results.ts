import type { BenchSettings, CaseReport } from "./bench-case.js";
import type { MachineInfo, VersionInfo } from "./environment-info.js";

/** Everything one `pnpm bench` run wrote, as stored in `latest.json`. */
export interface BenchResults {
  readonly generatedAt: string;
  /** `full` only when every case ran without `--quick`. */
  readonly kind: "full" | "partial";
  readonly settings: BenchSettings;
  readonly durationMs: number;
  readonly machine: MachineInfo;
  readonly versions: VersionInfo;
  /** Set when building the workspace packages failed and older `dist` output was measured. */
  readonly buildWarning?: string;
  readonly cases: readonly CaseReport[];
}
