import type { Cluster, Redis } from "ioredis";
import type { RedisClient } from "./lua-script.js";

function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

// Clients whose sockets are corked for the current turn of the event loop. A
// cluster client is one entry however many node sockets it corked.
const corked = new WeakSet<RedisClient>();

function corkSocket(stream: Redis["stream"], uncorkLater: Array<Redis["stream"]>): void {
  // A socket that is closing or closed takes no writes anyway; corking it would only hide that.
  if (!stream.writable) return;
  stream.cork();
  uncorkLater.push(stream);
}

// A cluster client sends each command synchronously to the node that serves
// its slot (ioredis `Cluster.sendCommand`), over that node's own connection:
// corking every ready master connection makes each node's commands of this
// turn leave in one write per node. Redirections (MOVED, ASK), retries and a
// node's failure stay ioredis's, per command: corking changes when bytes
// leave, never which command goes where or how a reply is matched.
function corkClusterNodes(cluster: Cluster, uncorkLater: Array<Redis["stream"]>): void {
  for (const node of cluster.nodes("master")) {
    if (node.status === "ready") corkSocket(node.stream, uncorkLater);
  }
}

/**
 * Makes the commands sent on `client` during the current turn of the event
 * loop leave in one socket write per connection: the sockets are corked now
 * and uncorked on `process.nextTick`, so many concurrent calls (the accepts of
 * many requests at once) cost one `writev` instead of one write each. The
 * commands are still separate and in order, and none waits for another's
 * reply. On a single Redis that is its one socket; on a Redis Cluster it is
 * each ready master's socket, so the turn's calls are grouped by the node
 * that serves their slot, and a node that fails fails only its own calls. A
 * client that is not ready (connecting, reconnecting, closed) is left alone.
 */
export function coalesceWritesThisTurn(client: RedisClient): void {
  if (corked.has(client) || client.status !== "ready") return;
  const sockets: Array<Redis["stream"]> = [];
  if (isCluster(client)) corkClusterNodes(client, sockets);
  else corkSocket(client.stream, sockets);
  if (sockets.length === 0) return;
  corked.add(client);
  process.nextTick(() => {
    corked.delete(client);
    for (const socket of sockets) socket.uncork();
  });
}
