// Server helpers without vitest, for tools that start Redis or PostgreSQL outside a test run
// (the bench, the chaos suite).
export { type PostgresServerProcess, postgresBinDirectory, startPostgresServer } from "./postgres-server.js";
export {
  type HeldServer,
  holdServer,
  type RedisClusterProcess,
  type StartRedisClusterOptions,
  slotOwnerPort,
  startRedisCluster,
} from "./redis-cluster.js";
export {
  freePort,
  hasRedisServerBinary,
  noRedisMessage,
  type RedisServerProcess,
  type StartRedisServerOptions,
  startRedisServer,
} from "./redis-server.js";
