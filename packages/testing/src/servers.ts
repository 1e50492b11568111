// Server helpers without vitest, for tools that start Redis outside a test run (the bench).
export { type RedisClusterProcess, startRedisCluster } from "./redis-cluster.js";
export {
  freePort,
  hasRedisServerBinary,
  noRedisMessage,
  type RedisServerProcess,
  type StartRedisServerOptions,
  startRedisServer,
} from "./redis-server.js";
