import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";

const address = { orgId: "org", envId: "env", runId: "run_1" };

describe.each(redisTopologies)("discardFailed on $name", ({ test }) => {
  test("deletes a retained FAILED record once; a replay re-accepts its snapshot under the same run id", async ({
    redis,
  }) => {
    const buffer = new MollifierBuffer({ redis });
    await buffer.accept({ ...address, taskId: "task", payload: { n: 1 }, options: { tags: ["a"] } });
    const [entry] = (await buffer.lease({ orgId: "org", envId: "env", count: 1 })).entries;
    if (entry === undefined) throw new Error("no entry leased");
    expect(await buffer.fail(entry, { error: "boom" })).toEqual({ outcome: "failed" });

    const failed = await buffer.getFailed(address);
    expect(failed?.error).toBe("boom");
    const snapshot = failed?.snapshot;
    if (snapshot === undefined) throw new Error("the failed record's snapshot does not parse");
    expect((await buffer.accept(snapshot)).outcome).toBe("accepted");
    // Accepting again while it is buffered is a duplicate: a replay retried is harmless.
    expect((await buffer.accept(snapshot)).outcome).toBe("duplicate_run");
    expect(await buffer.discardFailed(address)).toEqual({ outcome: "discarded" });
    expect(await buffer.getFailed(address)).toBeUndefined();
    expect(await buffer.discardFailed(address)).toEqual({ outcome: "not_found" });
    expect((await buffer.getEntry(address))?.snapshot.options.tags).toEqual(["a"]);
  });

  test("refuses an id that cannot be a key segment, as every read does", async ({ redis }) => {
    const buffer = new MollifierBuffer({ redis });
    await expect(buffer.discardFailed({ ...address, runId: "" })).rejects.toThrow();
  });
});
