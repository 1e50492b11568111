import type { CaseContext } from "./bench-case.js";

/** One side of a comparison (ours or a peer): a single measured run. */
export interface RunSide<Sample> {
  readonly name: string;
  /** One run; state it needs is created inside and torn down before it returns. */
  readonly run: () => Promise<Sample>;
}

/**
 * Runs every side `warmups` times unmeasured (the settings' count unless the
 * case needs more), then `runs` times measured, alternating the order each
 * round (A B, B A, …) so a drift in machine load hits both sides alike.
 * Redis is flushed before every run.
 */
export async function runInterleaved<Sample>(
  context: CaseContext,
  label: string,
  sides: readonly RunSide<Sample>[],
  options: { warmups?: number } = {},
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(sides.map((side) => [side.name, []]));
  const { runs } = context.settings;
  const warmups = Math.max(context.settings.warmups, options.warmups ?? 0);
  for (let round = 0; round < warmups + runs; round++) {
    const ordered = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of ordered) {
      await context.flush();
      const sample = await side.run();
      if (round >= warmups) samples.get(side.name)?.push(sample);
    }
    context.log(`${label}: round ${round + 1}/${warmups + runs}${round < warmups ? " (warm-up)" : ""}`);
  }
  await context.flush();
  return samples;
}
