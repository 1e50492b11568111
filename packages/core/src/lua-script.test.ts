import { createHash } from "node:crypto";
import { redisTopologies } from "@mollifier/testing";
import { Cluster } from "ioredis";
import { describe, expect, test } from "vitest";
import { defineLuaScript, isNoScriptError, runLuaScript } from "./lua-script.js";

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
  test("a client with auto-pipelining runs concurrent scripts over many slots, each placed by its keys", async ({
    redis,
  }) => {
    const piped =
      redis instanceof Cluster
        ? redis.duplicate(undefined, { enableAutoPipelining: true })
        : redis.duplicate({ enableAutoPipelining: true });
    try {
      const tags = Array.from({ length: 24 }, (_, index) => `{auto-${index}}`);
      // The first calls find no cached script (EVAL after NOSCRIPT), the second round runs EVALSHA.
      for (const round of ["1", "2"]) {
        const replies = await Promise.all(
          tags.map((tag) => runLuaScript(piped, echoScript, [`${tag}:a`, `${tag}:b`], [round])),
        );
        expect(replies).toEqual(tags.map((tag) => [`${tag}:a`, `${tag}:b`, round]));
      }
    } finally {
      piped.disconnect();
    }
  });

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

  test("passes a script's own error through instead of retrying it", async ({ redis }) => {
    const failingBody = "-- test script\nreturn redis.error_reply('ERR from the script')\n";
    const failing = defineLuaScript({
      name: "failing",
      numberOfKeys: 1,
      argvCount: 0,
      variadicArgv: false,
      variadicKeys: false,
      sha1: createHash("sha1").update(failingBody).digest("hex"),
      body: failingBody,
    });
    await expect(runLuaScript(redis, failing, ["{t}:a"], [])).rejects.toThrow("ERR from the script");
  });
});

describe("isNoScriptError", () => {
  const reply = "NOSCRIPT No matching script. Please use EVAL.";

  test("recognises the bare NOSCRIPT reply", () => {
    expect(isNoScriptError(new Error(reply))).toBe(true);
  });

  test("recognises NOSCRIPT anywhere in the message, as a redirected or pipelined reply carries it", () => {
    expect(isNoScriptError(new Error(`Command failed after MOVED 3999 127.0.0.1:7001: ${reply}`))).toBe(true);
    expect(isNoScriptError(Object.assign(new Error(`EXECABORT ${reply}`), { name: "ReplyError" }))).toBe(
      true,
    );
  });

  test("recognises NOSCRIPT in the cause chain and in a cluster's last node error", () => {
    const wrapped = new Error("script failed", {
      cause: new Error("retry failed", { cause: new Error(reply) }),
    });
    expect(isNoScriptError(wrapped)).toBe(true);
    const allFailed = Object.assign(new Error("Failed to refresh slots cache."), {
      lastNodeError: new Error(reply),
    });
    expect(isNoScriptError(allFailed)).toBe(true);
  });

  test("answers false for other errors, non-errors and a cyclic cause chain", () => {
    expect(isNoScriptError(new Error("ERR wrong number of arguments"))).toBe(false);
    expect(isNoScriptError(new Error("MYNOSCRIPTLIKE"))).toBe(false);
    expect(isNoScriptError(reply)).toBe(false);
    expect(isNoScriptError(undefined)).toBe(false);
    const cyclic: Error & { cause?: unknown } = new Error("loop");
    cyclic.cause = cyclic;
    expect(isNoScriptError(cyclic)).toBe(false);
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
