import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A rendezvous between two test files of the isolation proof: each file posts
 * the port of its Redis and waits (bounded) for the other to do the same, so
 * the two files hold their servers at the same time.
 */
export async function rendezvous(
  runId: string,
  self: string,
  other: string,
  port: string,
): Promise<string | undefined> {
  const directory = join(tmpdir(), `mollifier-isolation-${runId}`);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, self), port);
  const otherFile = join(directory, other);
  for (let waited = 0; waited < 30_000; waited += 50) {
    if (existsSync(otherFile)) return readFileSync(otherFile, "utf8");
    await sleep(50);
  }
  return undefined;
}
