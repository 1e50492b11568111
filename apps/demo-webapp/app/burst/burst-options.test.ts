import { describe, expect, test } from "vitest";
import { achievedRate, BurstOptionError, parseBurstOptions, rateWarning } from "./burst-options";

describe("parseBurstOptions", () => {
  test("no options gives the documented defaults", () => {
    expect(parseBurstOptions({})).toEqual({
      url: undefined,
      ratePerSecond: 400,
      durationMs: 5_000,
      orgs: 3,
      envsPerOrg: 2,
      skew: 0.5,
      idempotentShare: 0.1,
      out: "burst-report.json",
    });
  });

  test("values at the edges of their ranges are taken", () => {
    const options = parseBurstOptions({
      rate: "100000",
      duration: "0.5",
      orgs: "1",
      envs: "2",
      skew: "1",
      idempotent: "0",
      url: "http://127.0.0.1:3000/",
    });
    expect(options).toMatchObject({
      ratePerSecond: 100_000,
      durationMs: 500,
      orgs: 1,
      envsPerOrg: 2,
      skew: 1,
    });
    expect(options.url).toBe("http://127.0.0.1:3000");
  });

  test.each([
    [{ rate: "0" }, '--rate must be a number above 0 to 100000, got "0"'],
    [{ rate: "abc" }, '--rate must be a number above 0 to 100000, got "abc"'],
    [{ duration: "-1" }, '--duration must be a number above 0 to 3600, got "-1"'],
    [{ orgs: "4" }, '--orgs must be an integer from 1 to 3, got "4"'],
    [{ orgs: "1.5" }, '--orgs must be an integer from 1 to 3, got "1.5"'],
    [{ envs: "0" }, '--envs must be an integer from 1 to 2, got "0"'],
    [{ skew: "1.2" }, '--skew must be a number from 0 to 1, got "1.2"'],
    [{ idempotent: "" }, '--idempotent must be a number from 0 to 1, got ""'],
    [
      { url: "localhost:3000" },
      '--url must be an http(s) origin such as http://127.0.0.1:3000, got "localhost:3000"',
    ],
  ])("an out-of-range option is refused with a message naming it: %j", (values, message) => {
    expect(() => parseBurstOptions(values)).toThrow(BurstOptionError);
    expect(() => parseBurstOptions(values)).toThrow(message);
  });
});

describe("achieved rate", () => {
  test("a burst that kept its schedule achieved the rate asked for", () => {
    // 2,000/s for 10 s: the last of 20,000 goes out at 9,999.5 ms.
    expect(achievedRate(20_000, 9_999.5, 2_000)).toBeCloseTo(2_000, 6);
    expect(rateWarning(2_000, achievedRate(20_000, 9_999.5, 2_000))).toBeUndefined();
  });

  test("a burst that took seven times as long is reported with a warning", () => {
    const achieved = achievedRate(20_000, 70_000, 2_000);
    expect(achieved).toBeCloseTo(285.7, 1);
    expect(rateWarning(2_000, achieved)).toMatch(/achieved 286\/s, 86% off the 2000\/s asked for/);
  });

  test("within 10% there is no warning, beyond it there is", () => {
    expect(rateWarning(1_000, 901)).toBeUndefined();
    expect(rateWarning(1_000, 899)).toBeDefined();
  });
});
