import { describe, expect, test } from "vitest";
import { isDependencyUnavailable } from "./dependency-unavailable.js";

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("isDependencyUnavailable", () => {
  test.each([
    ["connection refused", withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED")],
    ["connection reset", withCode("read ECONNRESET", "ECONNRESET")],
    [
      "a terminated backend (57P01)",
      withCode("terminating connection due to administrator command", "57P01"),
    ],
    ["a server that is starting (57P03)", withCode("the database system is starting up", "57P03")],
    ["a connection exception (08006)", withCode("connection failure", "08006")],
    ["too many connections (53300)", withCode("sorry, too many clients already", "53300")],
    ["pg's lost connection", new Error("Connection terminated unexpectedly")],
    ["pg-pool's connect timeout", new Error("timeout exceeded when trying to connect")],
    [
      "a wrapped cause",
      new Error("write failed", { cause: withCode("connect ECONNREFUSED", "ECONNREFUSED") }),
    ],
    [
      "an AggregateError of refusals",
      new AggregateError([withCode("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")]),
    ],
  ])("recognises %s", (_, error) => {
    expect(isDependencyUnavailable(error)).toBe(true);
  });

  test.each([
    ["a unique violation (23505)", withCode("duplicate key value violates unique constraint", "23505")],
    ["a syntax error (42601)", withCode('syntax error at or near "SELEC"', "42601")],
    ["a plain bug", new TypeError("Cannot read properties of undefined")],
    ["a string", "ECONNREFUSED"],
    ["nothing", undefined],
  ])("does not take %s for an outage", (_, error) => {
    expect(isDependencyUnavailable(error)).toBe(false);
  });

  test("a cause cycle does not loop", () => {
    const error: Error & { cause?: unknown } = new Error("a");
    error.cause = error;
    expect(isDependencyUnavailable(error)).toBe(false);
  });
});
