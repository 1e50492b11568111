import type { ActionFunctionArgs } from "react-router";
import { z } from "zod/v4";
import { servicesOf } from "../context.server";

const bodySchema = z.object({
  burstId: z.string().min(1).max(64),
  runIds: z.array(z.string()).max(1_000_000),
});

/** Checks a burst against the database for the burst CLI (a demo helper, not part of the API). */
export async function action({ request, context }: ActionFunctionArgs) {
  const parsed = bodySchema.safeParse(await request.json().catch(() => undefined));
  if (!parsed.success) return Response.json({ error: "expected { burstId, runIds }" }, { status: 422 });
  const services = servicesOf(context);
  return Response.json(await services.engine.verifyBurst(parsed.data.burstId, parsed.data.runIds));
}
