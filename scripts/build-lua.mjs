#!/usr/bin/env node
// Turns a package's `lua/<name>-<numberOfKeys>.lua` scripts into one TypeScript
// module, `src/generated/lua-scripts.ts`, and fails when a script disagrees with
// itself:
//   - the file name must be `<kebab-name>-<numberOfKeys>.lua`;
//   - the header (the leading `--` comment block) starts with a purpose line and
//     documents exactly KEYS[1..numberOfKeys] and ARGV[1..m] (`ARGV[m...]` marks
//     a variadic tail; so does `KEYS[numberOfKeys+1...]` for keys), and at least
//     one reply shape (`Returns`);
//   - the body uses no KEYS[i] beyond numberOfKeys, every documented KEYS[i] is
//     used, and no ARGV[i] beyond the documented ones; only a script with a
//     variadic key tail may index KEYS with a computed value.
// The generated module types each script with its key count, so a wrapper that
// passes a different number of keys fails `tsc` ("its use").
//
// `--@include <name>` lines are replaced by `lua/includes/<name>.lua`, each at
// most once per script (a second `--@include` of the same name is dropped).
//
// A package with an entry record (`lua/entry-record.json`, see entry-record.mjs)
// also gets the generated include `entry-record` (also written to
// `src/generated/entry-record.lua` for reading) and `src/generated/entry-record.ts`.
//
// Usage: node scripts/build-lua.mjs <packageDir> [--runtime <import path>]
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { entryRecord } from "./entry-record.mjs";

const args = process.argv.slice(2);
const packageDir = resolve(args[0] ?? ".");
const runtimeFlag = args.indexOf("--runtime");
const runtimeImport = runtimeFlag >= 0 ? args[runtimeFlag + 1] : "../lua-script.js";

const luaDir = join(packageDir, "lua");
const outDir = join(packageDir, "src", "generated");
const packageJson = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));

const FILE_NAME = /^([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-(\d+)\.lua$/;
const errors = [];

function fail(file, message) {
  errors.push(`${file}: ${message}`);
}

function camel(name) {
  return name.replace(/-([a-z0-9])/g, (_, letter) => letter.toUpperCase());
}

const record = entryRecord(packageDir, (message) => fail("entry-record.json", message));
/** Includes built from definitions rather than read from `lua/includes/`. */
const generatedIncludes = new Map(record ? [["entry-record", record.luaInclude]] : []);

// `included` is shared by one script's whole include tree, so an include that two
// others use is inlined once.
function inline(file, source, seen = new Set(), included = new Set()) {
  return source.replace(/^--@include\s+([a-z0-9-]+)\s*$/gm, (_, include) => {
    if (seen.has(include)) {
      fail(file, `include cycle through ${include}`);
      return "";
    }
    if (included.has(include)) return "";
    included.add(include);
    const path = join(luaDir, "includes", `${include}.lua`);
    const generated = generatedIncludes.get(include);
    if (generated === undefined && !existsSync(path)) {
      fail(file, `includes ${include}, but lua/includes/${include}.lua does not exist`);
      return "";
    }
    const text = generated ?? readFileSync(path, "utf8");
    return inline(file, text, new Set([...seen, include]), included).trimEnd();
  });
}

function header(source) {
  const lines = [];
  for (const line of source.split("\n")) {
    if (!line.startsWith("--")) break;
    lines.push(line.replace(/^--\s?/, ""));
  }
  return lines;
}

function checkScript(file, numberOfKeys, source) {
  const head = header(source);
  if (head.length === 0 || head[0].trim() === "" || /^(KEYS|ARGV)\[/.test(head[0].trim())) {
    fail(file, "the header must start with a one-line purpose");
  }
  const keyLines = [...head.join("\n").matchAll(/^\s*KEYS\[(\d+)(\.\.\.)?\]/gm)];
  const variadicKeys = keyLines.some((m) => m[2] === "...");
  if (variadicKeys && (keyLines.at(-1)?.[2] !== "..." || Number(keyLines.at(-1)?.[1]) !== numberOfKeys + 1)) {
    fail(file, `a variadic key tail must be documented last, as KEYS[${numberOfKeys + 1}...]`);
  }
  const documentedKeys = keyLines.filter((m) => m[2] !== "...").map((m) => Number(m[1]));
  const expectedKeys = Array.from({ length: numberOfKeys }, (_, i) => i + 1);
  if (documentedKeys.join(",") !== expectedKeys.join(",")) {
    fail(
      file,
      `the header documents KEYS[${documentedKeys.join(",") || "none"}] but the file name says ${numberOfKeys} key(s)`,
    );
  }
  // `ARGV[m...]` (or `ARGV[m]...`) documents a variadic tail from m on; it may be empty.
  const argvLines = [...head.join("\n").matchAll(/^\s*ARGV\[(\d+)(\.\.\.)?\](\.\.\.)?/gm)];
  const documentedArgv = argvLines.map((m) => Number(m[1]));
  const variadic = argvLines.some((m) => m[2] === "..." || m[3] === "...");
  const expectedArgv = Array.from({ length: documentedArgv.length }, (_, i) => i + 1);
  if (documentedArgv.join(",") !== expectedArgv.join(",")) {
    fail(file, `ARGV in the header must be numbered 1..n in order, found ${documentedArgv.join(",")}`);
  }
  if (!/^\s*Returns?\b/m.test(head.join("\n"))) {
    fail(file, "the header must document every reply shape after a `Returns` line");
  }
  const body = source
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n");
  const usedKeys = new Set([...body.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
  for (const key of usedKeys) {
    if (key > numberOfKeys) fail(file, `uses KEYS[${key}] but declares only ${numberOfKeys} key(s)`);
  }
  const computedKeys = /KEYS\[[^\d]/.test(body);
  if (computedKeys && !variadicKeys) {
    fail(file, "indexes KEYS with a computed value; only a script with a variadic key tail may");
  }
  // A script walking a variadic key list may reach its fixed keys by computed index too.
  if (!computedKeys) {
    for (const key of expectedKeys) {
      if (!usedKeys.has(key)) fail(file, `declares KEYS[${key}] but never uses it`);
    }
  }
  const usedArgv = [...body.matchAll(/ARGV\[(\d+)\]/g)].map((m) => Number(m[1]));
  for (const arg of usedArgv) {
    if (arg > documentedArgv.length && !variadic) {
      fail(file, `uses ARGV[${arg}] but the header documents only ${documentedArgv.length}`);
    }
  }
  if (/redis\.call\(\s*['"](KEYS|SCAN)['"]/i.test(body)) {
    fail(file, "KEYS and SCAN inside a script cannot be cluster-safe");
  }
  // The fixed arguments come before the tail, which the generated type leaves open.
  return { argvCount: variadic ? documentedArgv.length - 1 : documentedArgv.length, variadic, variadicKeys };
}

if (!existsSync(luaDir)) {
  console.error(`build-lua: ${luaDir} does not exist`);
  process.exit(1);
}

const files = readdirSync(luaDir)
  .filter((file) => file.endsWith(".lua"))
  .sort();
const scripts = [];
const names = new Set();
for (const file of files) {
  const match = FILE_NAME.exec(file);
  if (!match) {
    fail(file, "a script's file name must be <kebab-name>-<numberOfKeys>.lua");
    continue;
  }
  const name = match[1];
  const numberOfKeys = Number(match[2]);
  if (names.has(name)) fail(file, `two scripts are named ${name}`);
  names.add(name);
  const raw = readFileSync(join(luaDir, file), "utf8");
  const { argvCount, variadic, variadicKeys } = checkScript(file, numberOfKeys, raw);
  // The package name and version are part of the body, so the SHA (the name the
  // script is registered under in Redis) differs between package versions.
  const body = `-- ${packageJson.name}@${packageJson.version} ${name}\n${inline(file, raw)}`;
  const sha1 = createHash("sha1").update(body).digest("hex");
  scripts.push({ name, file, numberOfKeys, argvCount, variadic, variadicKeys, body, sha1 });
}

if (errors.length > 0) {
  console.error(`build-lua: ${errors.length} problem(s) in ${luaDir}:\n  ${errors.join("\n  ")}`);
  process.exit(1);
}

const lines = [
  `// Generated by scripts/build-lua.mjs from ${packageJson.name}'s lua/ folder. Do not edit.`,
  `import { defineLuaScript } from "${runtimeImport}";`,
  "",
];
for (const script of scripts) {
  lines.push(
    `/** \`lua/${script.file}\` */`,
    `export const ${camel(script.name)}Script = defineLuaScript({`,
    `  name: ${JSON.stringify(script.name)},`,
    `  numberOfKeys: ${script.numberOfKeys},`,
    `  argvCount: ${script.argvCount},`,
    `  variadicArgv: ${script.variadic},`,
    `  variadicKeys: ${script.variadicKeys},`,
    `  sha1: ${JSON.stringify(script.sha1)},`,
    `  body: ${JSON.stringify(script.body)},`,
    "});",
    "",
  );
}
function writeIfChanged(target, content) {
  if (!existsSync(target) || readFileSync(target, "utf8") !== content) writeFileSync(target, content);
}

mkdirSync(outDir, { recursive: true });
const target = join(outDir, "lua-scripts.ts");
writeIfChanged(target, lines.join("\n"));
console.log(`build-lua: ${scripts.length} script(s) -> ${target}`);
if (record) {
  writeIfChanged(join(outDir, "entry-record.lua"), record.luaInclude);
  writeIfChanged(join(outDir, "entry-record.ts"), record.typescript);
  console.log(`build-lua: entry record -> ${join(outDir, "entry-record.{lua,ts}")}`);
}
