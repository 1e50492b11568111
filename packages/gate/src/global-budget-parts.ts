import type { BufferKeys } from "@mollifier/buffer";
import { slotBalancedTags } from "@mollifier/core";
import { MIN_GLOBAL_PART_THRESHOLD } from "./gate-config.js";

/** One window of the global budget, on a slot of its own. */
export interface GlobalBudgetPart {
  /** The window's key, as the `global-trip` script takes it. */
  readonly keys: readonly [string];
  /** This part's share of the global threshold; the shares add up to it. */
  readonly threshold: number;
}

/** Options of {@link GlobalBudgetParts}. */
export interface GlobalBudgetPartsOptions {
  /** The buffer's key builder: the parts' tags derive from its prefix. */
  keys: BufferKeys;
  /** The fleet-wide budget per window. */
  threshold: number;
  /** Most parts to spread over. */
  mostParts: number;
  /** Picks the part this process starts its rotation at. */
  random: () => number;
}

/**
 * The fleet-wide gate budget spread over slots, so no master counts every
 * pass-through trigger.
 *
 * A budget of `G` per window is cut into `n = min(mostParts, max(1, floor(G / 250)))`
 * parts with thresholds `floor(G / n)` or one more, adding up to `G`. With one
 * part its window is `{<prefix>:global}:gate:window`, the key the budget always
 * had; with more, part `i` is `{<prefix>:global:<i>:<k>}:gate:window`, its tag
 * on the centre slot of range `i` of an even split of the slots (core's
 * `slotBalancedTags`, as the buffer's shards), so every master of an evenly
 * split cluster holds its share. Each process counts its triggers in the
 * parts in turn, one trigger each, from a random start: every part counts about
 * `1/n` of the fleet's triggers whichever envs and shards they come from, and
 * strays from it by less than one trigger per gate process.
 */
export class GlobalBudgetParts {
  readonly parts: readonly GlobalBudgetPart[];
  readonly threshold: number;
  #next: number;

  constructor(options: GlobalBudgetPartsOptions) {
    this.threshold = options.threshold;
    const count = Math.max(
      1,
      Math.min(options.mostParts, Math.floor(options.threshold / MIN_GLOBAL_PART_THRESHOLD)),
    );
    if (count === 1) {
      this.parts = [{ keys: [`${options.keys.globalGatePrefix()}:window`], threshold: options.threshold }];
    } else {
      const share = Math.floor(options.threshold / count);
      const remainder = options.threshold - share * count;
      this.parts = slotBalancedTags(`${options.keys.prefix}:global`, count).map((tag, index) => ({
        keys: [`${tag}:gate:window`] as const,
        threshold: share + (index < remainder ? 1 : 0),
      }));
    }
    this.#next = Math.min(count - 1, Math.floor(options.random() * count));
  }

  /** The part this process counts its next trigger in. */
  next(): GlobalBudgetPart {
    const part = this.parts[this.#next] ?? this.parts[0];
    this.#next = (this.#next + 1) % this.parts.length;
    if (part === undefined) throw new RangeError("a global budget has at least one part");
    return part;
  }

  /** The fleet's count as `part` sees it (its count scaled by the budget over its share); exact with one part. */
  fleetCount(part: GlobalBudgetPart, count: number): number {
    return this.parts.length === 1 ? count : Math.round((count * this.threshold) / part.threshold);
  }
}
