import { type BenchCase, CaseNotRunError } from "../bench-case.js";

export const burstCase: BenchCase = {
  name: "burst",
  title: "burst through the demo app's HTTP API: pass-through vs mollify",
  async run() {
    throw new CaseNotRunError("not wired yet");
  },
};
