import { redisTopologies } from "@mollifier/testing";
import { describe, expect } from "vitest";
import { MollifierBuffer } from "./buffer.js";
import { runMollifierCommand } from "./mollifier-command.js";

function output() {
  const lines: string[] = [];
  return { lines, write: (text: string) => lines.push(text) };
}

describe.each(redisTopologies)("the mollifier command on $name", ({ test }) => {
  test("`mollifier reshard --to 8` pauses after --max-shards, resumes when run again, then has nothing to do", async ({
    redis,
    redisEndpoint,
  }) => {
    const buffer = new MollifierBuffer({ redis, shardCount: 4 });
    await buffer.checkLayout();
    await buffer.acceptBatch(
      Array.from({ length: 20 }, (_, index) => ({
        runId: `r${index}`,
        orgId: `org-${index}`,
        envId: "env",
        taskId: "task",
        payload: {},
      })),
    );
    const target =
      redisEndpoint.topology === "cluster"
        ? ["--cluster", redisEndpoint.url.replace("redis://", "")]
        : ["--redis", redisEndpoint.url];
    const run = async (...argv: string[]) => {
      const stdout = output();
      const stderr = output();
      const code = await runMollifierCommand(["reshard", ...argv, ...target], { stdout, stderr });
      return { code, stdout: stdout.lines.join(""), stderr: stderr.lines.join("") };
    };

    const paused = await run("--to", "8", "--max-shards", "2");
    expect(paused).toMatchObject({ code: 0, stderr: "" });
    expect(paused.stdout).toContain("paused after 2/4 shards; run it again to go on");
    const done = await run("--to", "8");
    expect(done.stdout).toContain("moved shard 3");
    expect(done.stdout).toContain("done: 4 -> 8 shards");
    expect((await run("--to", "8")).stdout).toContain("already 8 shards; nothing to do");

    await buffer.refreshLayout();
    expect(await buffer.stats()).toMatchObject({ depth: 20 });
    expect(await new MollifierBuffer({ redis, shardCount: 8 }).checkLayout()).toMatchObject({
      outcome: "matched",
    });
  });

  test("a usage error answers 2 with the usage; a refused reshard answers 1 with its code", async ({
    redis,
    redisEndpoint,
  }) => {
    const stdout = output();
    const stderr = output();
    expect(await runMollifierCommand(["reshard"], { stdout, stderr })).toBe(2);
    expect(stderr.lines.join("")).toContain("--to is required");
    expect(stderr.lines.join("")).toContain("usage: mollifier reshard --to <shards>");
    expect(await runMollifierCommand(["reshard", "--to", "0"], { stdout, stderr })).toBe(2);

    const target =
      redisEndpoint.topology === "cluster"
        ? ["--cluster", redisEndpoint.url.replace("redis://", "")]
        : ["--redis", redisEndpoint.url];
    const refused = output();
    // No process stored a layout yet: nothing to reshard.
    expect(await runMollifierCommand(["reshard", "--to", "8", ...target], { stdout, stderr: refused })).toBe(
      1,
    );
    expect(refused.lines.join("")).toContain(
      "reshard failed (RESHARD_REFUSED): no layout record at {mollifier}:layout",
    );
    expect(await redis.exists("{mollifier}:layout")).toBe(0);
  });
});
