// The packages as a team outside this repository gets them: packed tarballs installed with plain
// npm into fresh projects, compiled with the consumer's own settings and run against a real Redis.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type RedisServerProcess, startRedisServer } from "@mollifier/testing/servers";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repository = fileURLToPath(new URL("../../", import.meta.url));
const PACKAGES = ["core", "buffer", "drainer", "gate", "read-fallback", "telemetry"] as const;
// The workspace's compiler and Node types; the projects install only what a consumer's app would.
const tsc = join(repository, "node_modules/typescript/bin/tsc");
const typeRoots = [join(repository, "node_modules/@types")];
const IOREDIS = { 5: "^5.4.0", 6: "^6.0.0" } as const;

let root: string;
let redis: RedisServerProcess;
const projects = new Map<5 | 6, string>();

/** pnpm as the test was started with (turbo runs it through pnpm), else the pinned one via npx. */
function pnpmCommand(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath?.includes("pnpm")) {
    return /\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath]] : [execPath, []];
  }
  return ["npx", ["-y", "pnpm@10.18.0"]];
}

async function sh(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    return await run(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 32 * 1024 * 1024 });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) failed:\n${failed.stdout ?? ""}\n${failed.stderr ?? ""}`,
    );
  }
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

// skipLibCheck as `tsc --init` writes it: ioredis 6 ships declarations that import an untyped module.
function strictOptions(module: string, moduleResolution: string) {
  return {
    strict: true,
    target: "es2022",
    module,
    moduleResolution,
    skipLibCheck: true,
    typeRoots,
    types: ["node"],
  };
}

async function createProject(ioredis: 5 | 6, tarballs: readonly string[]): Promise<string> {
  const project = join(root, `ioredis-${ioredis}`);
  mkdirSync(join(project, "examples"), { recursive: true });
  const dependencies: Record<string, string> = {
    ioredis: IOREDIS[ioredis],
    "@opentelemetry/api": "^1.9.0",
    "@opentelemetry/sdk-metrics": "^2.1.0",
  };
  for (const tarball of tarballs)
    dependencies[tarballPackageName(tarball)] = `file:${join(root, "tarballs", tarball)}`;
  writeJson(join(project, "package.json"), {
    name: `consumer-ioredis-${ioredis}`,
    private: true,
    type: "module",
    dependencies,
  });
  for (const name of PACKAGES) {
    cpSync(join(repository, "packages", name, "examples"), join(project, "examples"), { recursive: true });
  }
  await sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], project);
  return project;
}

function tarballPackageName(tarball: string): string {
  const name = PACKAGES.find((candidate) => tarball.startsWith(`mollifier-${candidate}-`));
  if (name === undefined) throw new Error(`unexpected tarball ${tarball}`);
  return `@mollifier/${name}`;
}

async function runExamples(project: string): Promise<Record<string, string>> {
  writeJson(join(project, "tsconfig.json"), {
    compilerOptions: { ...strictOptions("nodenext", "nodenext"), outDir: "dist" },
    include: ["examples"],
  });
  await sh(process.execPath, [tsc, "-p", "tsconfig.json"], project);
  const outputs: Record<string, string> = {};
  for (const name of PACKAGES) {
    // Each example starts from an empty Redis, as a reader's would.
    await redis.stop();
    await redis.start();
    const { stdout } = await sh(process.execPath, [`dist/${name}.js`], project, { REDIS_URL: redis.url });
    outputs[name] = stdout;
  }
  return outputs;
}

function project(ioredis: 5 | 6): string {
  const directory = projects.get(ioredis);
  if (directory === undefined) throw new Error(`no project for ioredis ${ioredis}`);
  return directory;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "mollifier-consumer-"));
  const [pnpm, pnpmArgs] = pnpmCommand();
  for (const name of PACKAGES) {
    await sh(
      pnpm,
      [...pnpmArgs, "pack", "--pack-destination", join(root, "tarballs")],
      join(repository, "packages", name),
    );
  }
  const tarballs = readdirSync(join(root, "tarballs"));
  expect(tarballs).toHaveLength(PACKAGES.length);
  redis = await startRedisServer();
  const [ioredis5, ioredis6] = await Promise.all([createProject(5, tarballs), createProject(6, tarballs)]);
  projects.set(5, ioredis5);
  projects.set(6, ioredis6);
});

afterAll(async () => {
  await redis?.dispose();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe("the packed packages in a fresh npm project", () => {
  it.each([6, 5] as const)(
    "every README example compiles under --strict (module nodenext) and runs against a fresh Redis, with ioredis %i",
    async (ioredis) => {
      const outputs = await runExamples(project(ioredis));
      expect(outputs.buffer).toContain("1 run(s) written");
      expect(outputs.drainer).toContain("run_d3");
      expect(outputs.gate).toContain("mollify per_env_rate");
      expect(outputs["read-fallback"]).toContain("QUEUED");
    },
  );

  it("the examples compile with bundler resolution", async () => {
    const directory = project(6);
    writeJson(join(directory, "tsconfig.bundler.json"), {
      compilerOptions: { ...strictOptions("preserve", "bundler"), noEmit: true },
      include: ["examples"],
    });
    await sh(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], directory);
  });

  it("a CommonJS project requires every package, from TypeScript (module nodenext) and from plain JavaScript", async () => {
    const directory = join(project(6), "cjs");
    mkdirSync(directory, { recursive: true });
    writeJson(join(directory, "package.json"), { type: "commonjs" });
    writeJson(join(directory, "tsconfig.json"), {
      compilerOptions: { ...strictOptions("nodenext", "nodenext"), outDir: "dist" },
      include: ["index.ts"],
    });
    writeFileSync(
      join(directory, "index.ts"),
      [
        'import { MollifierError } from "@mollifier/core";',
        'import { MollifierBuffer } from "@mollifier/buffer";',
        'import { Drainer } from "@mollifier/drainer";',
        'import { evaluateGate } from "@mollifier/gate";',
        'import { createReadFallback } from "@mollifier/read-fallback";',
        'import { createRecorder } from "@mollifier/telemetry";',
        'import { Redis } from "ioredis";',
        "",
        "async function main(): Promise<void> {",
        '  const redis = new Redis(process.env.REDIS_URL ?? "", { lazyConnect: true });',
        "  await redis.connect();",
        "  const buffer = new MollifierBuffer({ redis });",
        '  const accepted = await buffer.accept({ runId: "run_cjs", orgId: "o", envId: "e", taskId: "t", payload: {} });',
        "  await redis.quit();",
        "  const loaded = [MollifierError, Drainer, evaluateGate, createReadFallback, createRecorder];",
        '  console.log(accepted.outcome, loaded.every((value) => typeof value === "function"));',
        "}",
        "void main();",
        "",
      ].join("\n"),
    );
    await sh(process.execPath, [tsc, "-p", "tsconfig.json"], directory);
    const compiled = await sh(process.execPath, ["dist/index.js"], directory, { REDIS_URL: redis.url });
    expect(compiled.stdout.trim()).toBe("accepted true");

    writeFileSync(
      join(directory, "plain.cjs"),
      `const names = ${JSON.stringify(PACKAGES)};\n` +
        'console.log(names.map((name) => Object.keys(require("@mollifier/" + name)).length > 0).join(","));\n',
    );
    const plain = await sh(process.execPath, ["plain.cjs"], directory);
    expect(plain.stdout.trim()).toBe(PACKAGES.map(() => "true").join(","));
  });

  it("the installed `mollifier` bin refuses a Redis without a buffer and reshards one that has a buffered run", async () => {
    await redis.stop();
    await redis.start();
    const directory = project(6);
    const bin = join(directory, "node_modules", ".bin", "mollifier");
    await expect(sh(bin, ["reshard", "--to", "4", "--redis", redis.url], directory)).rejects.toThrow(
      "reshard failed (RESHARD_REFUSED): no layout record",
    );
    writeFileSync(
      join(directory, "accept-one.mjs"),
      [
        'import { MollifierBuffer } from "@mollifier/buffer";',
        'import { Redis } from "ioredis";',
        "const redis = new Redis(process.env.REDIS_URL);",
        "const buffer = new MollifierBuffer({ redis });",
        "await buffer.checkLayout();",
        'await buffer.accept({ runId: "run_bin", orgId: "org_1", envId: "env_1", taskId: "t", payload: {} });',
        "await redis.quit();",
      ].join("\n"),
    );
    await sh(process.execPath, ["accept-one.mjs"], directory, { REDIS_URL: redis.url });
    const { stdout } = await sh(bin, ["reshard", "--to", "4", "--redis", redis.url], directory);
    expect(stdout).toContain("-> 4 shards");
    const again = await sh(bin, ["reshard", "--to", "4", "--redis", redis.url], directory);
    expect(again.stdout).toContain("already 4 shards; nothing to do");
  });

  it("an esbuild bundle of the gate example runs", async () => {
    const directory = project(6);
    await build({
      absWorkingDir: directory,
      entryPoints: ["examples/gate.ts"],
      outfile: "bundle/gate.mjs",
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      // ioredis is CommonJS; a require shim lets the ESM bundle load Node built-ins through it.
      banner: {
        js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
      },
    });
    await redis.stop();
    await redis.start();
    const { stdout } = await sh(process.execPath, ["bundle/gate.mjs"], directory, { REDIS_URL: redis.url });
    expect(stdout).toContain("mollify per_env_rate");
  });
});
