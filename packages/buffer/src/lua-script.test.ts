import { createHash } from "node:crypto";
import { redisTopologies } from "@mollifier/testing";
import { describe, expect, test } from "vitest";
import { defineLuaScript, runLuaScript } from "./lua-script.js";

const body = "-- test script\nreturn { KEYS[1], KEYS[2], ARGV[1] }\n";
const echoScript = defineLuaScript({
  name: "echo",
  numberOfKeys: 2,
  argvCount: 1,
  variadicArgv: false,
  variadicKeys: false,
  sha1: createHash("sha1").update(body).digest("hex"),
  body,
});

const countBody = "-- test script\nreturn { #KEYS, KEYS[#KEYS], ARGV[1] }\n";
const countKeysScript = defineLuaScript({
  name: "count-keys",
  numberOfKeys: 1,
  argvCount: 1,
  variadicArgv: false,
  variadicKeys: true,
  sha1: createHash("sha1").update(countBody).digest("hex"),
  body: countBody,
});

describe.each(redisTopologies)("runLuaScript on $name", ({ test }) => {
  test("a script with a variadic key tail gets every key it is given", async ({ redis }) => {
    expect(await runLuaScript(redis, countKeysScript, ["{t}:a"], ["x"])).toEqual([1, "{t}:a", "x"]);
    expect(await runLuaScript(redis, countKeysScript, ["{t}:a", "{t}:b", "{t}:c"], ["y"])).toEqual([
      3,
      "{t}:c",
      "y",
    ]);
  });

  test("loads a script the server has never seen and runs it by SHA afterwards", async ({ redis }) => {
    await Promise.all(
      "nodes" in redis ? redis.nodes("master").map((node) => node.script("FLUSH")) : [redis.script("FLUSH")],
    );
    expect(await runLuaScript(redis, echoScript, ["{t}:a", "{t}:b"], ["x"])).toEqual(["{t}:a", "{t}:b", "x"]);
    // Now cached: EVALSHA answers without a fallback.
    expect(await redis.evalsha(echoScript.sha1, 2, "{t}:a", "{t}:b", "y")).toEqual(["{t}:a", "{t}:b", "y"]);
  });

  test("recovers when the script cache is flushed between calls (NOSCRIPT)", async ({ redis }) => {
    await runLuaScript(redis, echoScript, ["{t}:a", "{t}:b"], ["1"]);
    await Promise.all(
      "nodes" in redis ? redis.nodes("master").map((node) => node.script("FLUSH")) : [redis.script("FLUSH")],
    );
    expect(await runLuaScript(redis, echoScript, ["{t}:a", "{t}:b"], ["2"])).toEqual(["{t}:a", "{t}:b", "2"]);
  });
});

describe("script typing", () => {
  test("a wrapper that passes the wrong number of keys or arguments does not compile", () => {
    const never = (): void => {
      const client = null as unknown as Parameters<typeof runLuaScript>[0];
      // @ts-expect-error three keys for a two-key script
      void runLuaScript(client, echoScript, ["a", "b", "c"], ["x"]);
      // @ts-expect-error one key for a two-key script
      void runLuaScript(client, echoScript, ["a"], ["x"]);
      // @ts-expect-error two arguments for a one-argument script
      void runLuaScript(client, echoScript, ["a", "b"], ["x", "y"]);
      // @ts-expect-error no key for a script whose variadic key list starts with one
      void runLuaScript(client, countKeysScript, [], ["x"]);
    };
    expect(typeof never).toBe("function");
  });
});
