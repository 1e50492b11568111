import { redisTest } from "@mollifier/testing";
import { expect, expectTypeOf } from "vitest";
import { MollifierBuffer } from "./buffer.js";

interface Email {
  to: string;
  subject?: string;
}

redisTest(
  "a buffer typed by its payload hands the same type back from lease and reads",
  async ({ redis }) => {
    const buffer = new MollifierBuffer<Email>({ redis });
    await buffer.accept({
      runId: "r1",
      orgId: "o",
      envId: "e",
      taskId: "send",
      payload: { to: "a@example.com" },
    });
    const wrong = { runId: "r2", orgId: "o", envId: "e", taskId: "send", payload: { too: 1 } };
    // @ts-expect-error a payload of another shape does not compile
    await buffer.accept(wrong).catch(() => {});

    const viewed = await buffer.getEntry({ orgId: "o", envId: "e", runId: "r1" });
    expectTypeOf(viewed?.snapshot.payload).toEqualTypeOf<Email | undefined>();
    const { entries } = await buffer.lease({ orgId: "o", envId: "e", count: 2 });
    const [entry] = entries;
    expectTypeOf(entries[0]?.snapshot.payload).toEqualTypeOf<Email | undefined>();
    expect(entry?.snapshot.payload.to).toBe("a@example.com");
    // An untyped buffer keeps `unknown`.
    expectTypeOf(new MollifierBuffer({ redis }).lease).returns.resolves.toHaveProperty("entries");
  },
);
