import { Redis } from "ioredis";
import { describe, expect, test } from "vitest";
import { loadConfig } from "../app/config.server";
import { NO_REDIS_MESSAGE, startOwnRedis } from "../server/redis-process";

describe("configuration", () => {
  test("defaults to mollify mode with every org enrolled and the drainer in process", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ mode: "mollify", enrolledOrgs: "*", drainerInProcess: true });
    expect(config.redisUrl).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
  });

  test("reads modes, enrollment and limits from the environment", () => {
    const config = loadConfig({
      MOLLIFIER_MODE: "dual-write",
      MOLLIFIER_ENROLLED_ORGS: "org_acme, org_globex",
      MOLLIFIER_DB_MAX_WRITES: "8",
      MOLLIFIER_DRAINER: "separate",
    });
    expect(config).toMatchObject({
      mode: "dual-write",
      enrolledOrgs: ["org_acme", "org_globex"],
      maxConcurrentWrites: 8,
      drainerInProcess: false,
    });
  });

  test("a Redis Cluster is named by its seed nodes", () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: "127.0.0.1:7000,10.0.0.2:7001" }).redisClusterNodes).toEqual([
      { host: "127.0.0.1", port: 7000 },
      { host: "10.0.0.2", port: 7001 },
    ]);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "127.0.0.1" })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  test("an invalid value fails at start with a message naming the variable", () => {
    expect(() => loadConfig({ MOLLIFIER_MODE: "sometimes" })).toThrow(/MOLLIFIER_MODE/);
    expect(() => loadConfig({ MOLLIFIER_DB_MAX_WRITES: "-1" })).toThrow(/MOLLIFIER_DB_MAX_WRITES/);
  });
});

describe("the private redis-server", () => {
  test("starts on a free port with noeviction and is gone after stop", async () => {
    const own = await startOwnRedis();
    const client = new Redis(own.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      expect(await client.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
    } finally {
      client.disconnect();
      await own.stop();
    }
    const after = new Redis(own.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    after.on("error", () => undefined);
    await expect(after.connect()).rejects.toThrow();
    after.disconnect();
  });

  test("without redis-server on the PATH it says how to get one", async () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(startOwnRedis()).rejects.toThrow(NO_REDIS_MESSAGE);
    } finally {
      process.env.PATH = path;
    }
  });
});
