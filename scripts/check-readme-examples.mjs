#!/usr/bin/env node
// Every package README shows its examples verbatim: a `<!-- example: examples/<file>.ts -->` line
// followed by a ```ts block that must equal the file. The consumer test compiles and runs the files,
// so what a reader copies is what was tested.
//   node scripts/check-readme-examples.mjs          check (lint)
//   node scripts/check-readme-examples.mjs --write  copy each file into its README block
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const write = process.argv.includes("--write");
const MARKER = /^<!-- example: (examples\/[\w.-]+\.ts) -->\n```ts\n([\s\S]*?)```\n/gm;
const problems = [];

for (const name of readdirSync(join(root, "packages"))) {
  const directory = join(root, "packages", name);
  const examplesDirectory = join(directory, "examples");
  if (!existsSync(examplesDirectory)) continue;
  const readmePath = join(directory, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const shown = new Set();
  const updated = readme.replace(MARKER, (block, file, code) => {
    shown.add(file);
    const path = join(directory, file);
    if (!existsSync(path)) {
      problems.push(`packages/${name}/README.md shows ${file}, which does not exist`);
      return block;
    }
    const source = readFileSync(path, "utf8");
    if (source === code) return block;
    if (!write)
      problems.push(`packages/${name}/README.md: the block under "example: ${file}" differs from the file`);
    return `<!-- example: ${file} -->\n\`\`\`ts\n${source}\`\`\`\n`;
  });
  for (const file of readdirSync(examplesDirectory)) {
    if (file.endsWith(".ts") && !shown.has(`examples/${file}`)) {
      problems.push(
        `packages/${name}/README.md does not show examples/${file} (add "<!-- example: examples/${file} -->" before a ts block)`,
      );
    }
  }
  if (write && updated !== readme) writeFileSync(readmePath, updated);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`readme-examples: ${problem}`);
  console.error(write ? "" : "readme-examples: run node scripts/check-readme-examples.mjs --write");
  process.exit(1);
}
