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
  type AcquiredEndpoint,
  acquireClusterEndpoint,
  acquireRedisEndpoint,
  type RedisClient,
  type RedisEndpoint,
  type RedisSource,
} from "./redis-endpoint.js";
export { type RedisFixtures, redisClusterTest, redisTest, redisTopologies } from "./redis-fixtures.js";
export {
  freePort,
  hasRedisServerBinary,
  noRedisMessage,
  type RedisServerProcess,
  type StartRedisServerOptions,
  startRedisServer,
} from "./redis-server.js";
