import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, stopChild } from "./redis-server.js";

/** A PostgreSQL server this test kit started and owns, on a loopback port with trust auth. */
export interface PostgresServerProcess {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** Stops the server (fast shutdown, then SIGKILL): every connection is dropped; the data stays. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  dispose(): Promise<void>;
}

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 20_000;
const DEBIAN_POSTGRES_ROOT = "/usr/lib/postgresql";

let cachedBinDirectory: string | null | undefined;

/** The directory holding `initdb` and `postgres`, or `null` when no PostgreSQL server is installed. */
export async function postgresBinDirectory(): Promise<string | null> {
  if (cachedBinDirectory !== undefined) return cachedBinDirectory;
  cachedBinDirectory = null;
  const fromPgConfig = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  const candidates: string[] = [];
  if (fromPgConfig.status === 0) candidates.push(fromPgConfig.stdout.trim());
  // Debian installs the server outside the PATH, one directory per major version.
  const versions = await readdir(DEBIAN_POSTGRES_ROOT).catch(() => [] as string[]);
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    candidates.push(join(DEBIAN_POSTGRES_ROOT, version, "bin"));
  }
  for (const directory of candidates) {
    if (spawnSync(join(directory, "postgres"), ["--version"], { stdio: "ignore" }).status === 0) {
      cachedBinDirectory = directory;
      break;
    }
  }
  return cachedBinDirectory;
}

// PostgreSQL refuses to run as root: as root, run it as the `postgres` system user (the
// process itself, not a wrapper, so that signals reach the server).
function serverUser(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error("PostgreSQL cannot run as root and there is no `postgres` user to run it as");
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Starts a private PostgreSQL server (`initdb` into a temporary directory, then
 * `postgres` on a free loopback port, trust auth, fsync off). Unlike a schema on
 * a shared server, it can be stopped and started again, which is how outage
 * tests take the database away.
 */
export async function startPostgresServer(): Promise<PostgresServerProcess> {
  const bin = await postgresBinDirectory();
  if (bin === null) {
    throw new Error(
      "no PostgreSQL server is installed (initdb/postgres not found); install it with: sudo apt-get install -y postgresql",
    );
  }
  const directory = await mkdtemp(join(tmpdir(), "mollifier-postgres-"));
  const data = join(directory, "data");
  // The server user must own the directories it writes: the data and the socket directory.
  await chmod(directory, 0o777);
  const user = serverUser();
  const init = spawnSync(
    join(bin, "initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
    { encoding: "utf8", ...user },
  );
  if (init.status !== 0) {
    await rm(directory, { recursive: true, force: true });
    throw new Error(`initdb failed:\n${init.stdout}${init.stderr}`);
  }
  let port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      "-D",
      data,
      "-p",
      String(port),
      "-h",
      HOST,
      "-k",
      directory,
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ];
    const server = spawn(join(bin, "postgres"), args, { stdio: ["ignore", "pipe", "pipe"], ...user });
    let output = "";
    const keep = (chunk: Buffer) => {
      if (output.length < 8_000) output += chunk.toString();
    };
    server.stdout?.on("data", keep);
    server.stderr?.on("data", keep);
    let exited = false;
    server.once("exit", () => {
      exited = true;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline && !exited) {
      // pg_isready answers "accepting connections" only once recovery is over.
      if (spawnSync(join(bin, "pg_isready"), ["-q", "-h", HOST, "-p", String(port)]).status === 0) {
        child = server;
        return;
      }
      await sleep(50);
    }
    server.kill("SIGKILL");
    throw new Error(`postgres on port ${port} did not start:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    // SIGINT is PostgreSQL's fast shutdown: it ends every session and exits cleanly.
    await stopChild(running, "SIGINT", 5_000);
  };

  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) {
        await rm(directory, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  return {
    get port() {
      return port;
    },
    get url() {
      return `postgres://postgres@${HOST}:${port}/postgres`;
    },
    stop,
    start: launch,
    async dispose() {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
