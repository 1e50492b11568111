import { expect } from "vitest";
import { redisTest } from "../src/index.js";
import { rendezvous } from "./isolation-rendezvous.js";

// isolation-a and isolation-b run at the same time in two workers and must
// never see each other's keys.
redisTest(
  "file b never sees keys written by a test file running beside it",
  async ({ redis, redisEndpoint }) => {
    for (let index = 0; index < 100; index++) await redis.set(`b:${index}`, "b");
    const myPort = new URL(redisEndpoint.url).port;
    const otherPort = await rendezvous(process.env.MOLLIFIER_TEST_RUN_ID ?? "local", "b", "a", myPort);

    // The two files overlapped (the other posted while this one held its server) …
    expect(otherPort).toBeDefined();
    expect(otherPort).not.toBe(myPort);
    // … and after the other file wrote its keys, this server still holds only ours.
    const keys = await redis.keys("*");
    expect(keys).toHaveLength(100);
    expect(keys.every((key) => key.startsWith("b:"))).toBe(true);
  },
);

redisTest("each test starts on an empty database", async ({ redis }) => {
  expect(await redis.dbsize()).toBe(0);
});
