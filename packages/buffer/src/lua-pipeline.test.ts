import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

const execFileAsync = promisify(execFile);
const buildLua = fileURLToPath(new URL("../../../scripts/build-lua.mjs", import.meta.url));

const GOOD = `-- Sets a value in two keys.
-- KEYS[1] first
-- KEYS[2] second
-- ARGV[1] value
-- Returns: 1
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
return 1
`;

async function build(files: Record<string, string>): Promise<{ code: number; output: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "mollifier-lua-"));
  mkdirSync(join(dir, "lua"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "@mollifier/example", version: "1.2.3" }));
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, "lua", name), source);
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [buildLua, dir]);
    return { code: 0, output: stdout + stderr, dir };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, output: failure.stdout + failure.stderr, dir };
  }
}

describe("the Lua build step", () => {
  test("turns a well-formed script into a typed module whose body names the package version", async () => {
    const result = await build({ "set-both-2.lua": GOOD });
    expect(result.code).toBe(0);
    const generated = readFileSync(join(result.dir, "src/generated/lua-scripts.ts"), "utf8");
    expect(generated).toContain("export const setBothScript = defineLuaScript({");
    expect(generated).toContain("numberOfKeys: 2,");
    expect(generated).toContain("@mollifier/example@1.2.3 set-both");
  });

  test("fails when the file name's key count and the header disagree", async () => {
    const result = await build({ "set-both-3.lua": GOOD });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/file name says 3 key/);
  });

  test("fails when the body uses a key the header does not declare", async () => {
    const result = await build({
      "set-both-2.lua": GOOD.replace("return 1", "redis.call('DEL', KEYS[3])\nreturn 1"),
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/uses KEYS\[3\]/);
  });

  test("fails when a declared key is never used", async () => {
    const result = await build({
      "set-both-2.lua": GOOD.replace("redis.call('SET', KEYS[2], ARGV[1])\n", ""),
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/declares KEYS\[2\] but never uses it/);
  });

  test("fails when the body reads an undocumented argument", async () => {
    const result = await build({ "set-both-2.lua": GOOD.replace("return 1", "return ARGV[2]") });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/uses ARGV\[2\]/);
  });

  test("types a documented variadic tail (ARGV[m...]) as m - 1 fixed arguments and an open tail", async () => {
    const variadic = GOOD.replace("-- ARGV[1] value\n", "-- ARGV[1] value\n-- ARGV[2...] more values\n");
    const result = await build({ "set-both-2.lua": variadic });
    expect(result.code).toBe(0);
    const generated = readFileSync(join(result.dir, "src/generated/lua-scripts.ts"), "utf8");
    expect(generated).toContain("argvCount: 1,");
    expect(generated).toContain("variadicArgv: true,");
  });

  test("a documented variadic key tail (KEYS[n+1...]) allows computed KEYS indexes; without one they fail", async () => {
    const walking = `-- Sets a value in every key.
-- KEYS[1] first
-- KEYS[2...] more keys
-- ARGV[1] value
-- Returns: the number of keys
for index = 1, #KEYS do
  redis.call('SET', KEYS[index], ARGV[1])
end
return #KEYS
`;
    const result = await build({ "set-all-1.lua": walking });
    expect(result.code).toBe(0);
    const generated = readFileSync(join(result.dir, "src/generated/lua-scripts.ts"), "utf8");
    expect(generated).toContain("numberOfKeys: 1,");
    expect(generated).toContain("variadicKeys: true,");
    expect(
      readFileSync(
        join((await build({ "set-both-2.lua": GOOD })).dir, "src/generated/lua-scripts.ts"),
        "utf8",
      ),
    ).toContain("variadicKeys: false,");
    const fixed = await build({ "set-all-1.lua": walking.replace("-- KEYS[2...] more keys\n", "") });
    expect(fixed.output).toMatch(/computed value/);
    const misplaced = await build({
      "set-all-1.lua": walking.replace("-- KEYS[2...] more keys", "-- KEYS[3...] more keys"),
    });
    expect(misplaced.output).toMatch(/variadic key tail must be documented last, as KEYS\[2\.\.\.\]/);
  });

  test("fails on a header without a purpose line or reply shapes, and on a bad file name", async () => {
    const noPurpose = GOOD.split("\n").slice(1).join("\n");
    const noReturns = GOOD.replace("-- Returns: 1\n", "");
    expect((await build({ "a-2.lua": noPurpose })).output).toMatch(/one-line purpose/);
    expect((await build({ "a-2.lua": noReturns })).output).toMatch(/reply shape/);
    expect((await build({ "SetBoth.lua": GOOD })).output).toMatch(/file name must be/);
  });
});
