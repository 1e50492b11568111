import { describe, expect, test } from "vitest";
import { defaultConfig } from "../config.server";
import { enrollmentFor, gateCascadeFor } from "./package-gate.server";

const SETTINGS = defaultConfig().gate;

describe("the gate of each mode", () => {
  test("off is the kill switch, shadow evaluates in shadow mode, dual-write and mollify divert", () => {
    expect(gateCascadeFor("off", SETTINGS)).toMatchObject({ enabled: false, shadowMode: false });
    expect(gateCascadeFor("shadow", SETTINGS)).toMatchObject({ enabled: true, shadowMode: true });
    expect(gateCascadeFor("dual-write", SETTINGS)).toMatchObject({ enabled: true, shadowMode: false });
    expect(gateCascadeFor("mollify", SETTINGS)).toMatchObject({ enabled: true, shadowMode: false });
  });

  test("batch support and the time budget come from the gate's settings", () => {
    const cascade = gateCascadeFor("mollify", { ...SETTINGS, batchSupport: true, timeBudgetMs: 40 });
    expect(cascade).toMatchObject({ batchSupport: true, timeBudgetMs: 40 });
  });

  test("shadow enrolls no org; the other modes enroll the configured orgs", () => {
    const request = (orgId: string) => ({ orgId, envId: "env" });
    expect(enrollmentFor("shadow", "*")(request("org_acme"))).toBe(false);
    expect(enrollmentFor("mollify", "*")(request("org_acme"))).toBe(true);
    const some = enrollmentFor("dual-write", ["org_globex"]);
    expect([some(request("org_globex")), some(request("org_acme"))]).toEqual([true, false]);
  });
});
