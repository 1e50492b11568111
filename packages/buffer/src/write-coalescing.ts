import type { Redis } from "ioredis";
import type { RedisClient } from "./lua-script.js";

// Sockets corked for the current turn of the event loop.
const corked = new WeakSet<object>();

function isSingleRedis(client: RedisClient): client is Redis {
  return !client.isCluster;
}

/**
 * Makes the commands sent on `client` during the current turn of the event
 * loop leave in one socket write: its socket is corked now and uncorked on
 * `process.nextTick`, so many concurrent calls (the accepts of many requests
 * at once) cost one `writev` instead of one write each. The commands are
 * still separate and in order, and none waits for another's reply. Only for
 * a single Redis that is ready; a cluster client (a socket per node) and a
 * client still connecting are left alone.
 */
export function coalesceWritesThisTurn(client: RedisClient): void {
  if (!isSingleRedis(client) || client.status !== "ready") return;
  const { stream } = client;
  if (corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  process.nextTick(() => {
    corked.delete(stream);
    stream.uncork();
  });
}
