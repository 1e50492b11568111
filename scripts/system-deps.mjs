#!/usr/bin/env node
// Makes sure the programs a command needs beyond Node are on this machine, before
// that command runs: `redis-server` for the demo and the tests, a PostgreSQL server
// for the tests that take the database away, Debian's `chromium` for the
// dashboard's end-to-end test.
//
// Where one is missing and we may install system packages (root, or password-less
// sudo, on a machine with apt-get), it installs them the way `.ci/run` always did.
// Otherwise it stops at once with one message that names the single command to run.
//
// Usage: node scripts/system-deps.mjs demo|test
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const NEEDS = {
  // The demo starts its own redis-server unless REDIS_URL points at one.
  demo: process.env.REDIS_URL ? [] : [{ program: "redis-server", packages: ["redis-server", "redis-tools"] }],
  test: [
    { program: "redis-server", packages: ["redis-server", "redis-tools"] },
    { program: "redis-cli", packages: ["redis-tools"] },
    // Outage tests start and stop private PostgreSQL servers (Debian keeps the server off the PATH).
    { program: "postgres", packages: ["postgresql"], found: hasPostgresServer },
    {
      program: process.env.CHROMIUM_PATH ?? "chromium",
      packages: ["chromium"],
      unless: () => Boolean(process.env.CHROMIUM_PATH),
    },
  ],
};

const purpose = process.argv[2];
if (!(purpose in NEEDS)) {
  console.error(`usage: node scripts/system-deps.mjs ${Object.keys(NEEDS).join("|")}`);
  process.exit(64);
}

function hasPostgresServer() {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root) : [];
  return onPath("postgres") || versions.some((version) => existsSync(`${root}/${version}/bin/postgres`));
}

function onPath(program) {
  return spawnSync("sh", ["-c", `command -v "${program}"`], { stdio: "ignore" }).status === 0;
}

function aptGet(asRoot, args) {
  const [command, ...rest] = [...asRoot, "apt-get", ...args];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  return spawnSync(command, rest, { stdio: ["ignore", "inherit", "inherit"], env }).status === 0;
}

const found = (need) => (need.found ? need.found() : onPath(need.program));
const missing = NEEDS[purpose].filter((need) => !(need.unless?.() ?? false) && !found(need));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.flatMap((need) => need.packages))];
const programs = missing.map((need) => need.program).join(" and ");
const isRoot = process.getuid?.() === 0;
const canSudo =
  !isRoot && onPath("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
const asRoot = isRoot ? [] : canSudo ? ["sudo", "-n"] : null;

if (asRoot && onPath("apt-get")) {
  console.log(`mollifier: ${programs} not found; installing ${packages.join(" ")} with apt-get`);
  const apt = (...args) => aptGet(asRoot, args);
  // An old or empty package list cannot find the packages; refresh it once.
  const installed =
    apt("install", "-y", "-qq", ...packages) ||
    (apt("update", "-qq") && apt("install", "-y", "-qq", ...packages));
  if (installed && missing.every(found)) process.exit(0);
}

const command = onPath("apt-get")
  ? `sudo apt-get install -y ${packages.join(" ")}`
  : `install ${packages.join(" and ")} with your system's package manager`;
console.error(`mollifier: ${purpose} needs ${programs}, which this machine lacks. Run:\n\n  ${command}\n`);
process.exit(1);
