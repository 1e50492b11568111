import type { ActionFunctionArgs } from "react-router";
import { sendBurst } from "../burst/burst-generator";
import { finishBurst } from "../burst/burst-report";
import { servicesOf } from "../context.server";

const clamp = (value: FormDataEntryValue | null, fallback: number, min: number, max: number) => {
  const number = Number(value ?? fallback);
  return Number.isFinite(number) ? Math.min(max, Math.max(min, number)) : fallback;
};

/** Fires a demo burst in-process against this app's own API; answers at once. */
export async function action({ request, context }: ActionFunctionArgs) {
  const services = servicesOf(context);
  if (services.burst.running)
    return Response.json({ started: false, reason: "a burst is running" }, { status: 409 });
  const form = await request.formData().catch(() => new FormData());
  const baseUrl = new URL(request.url).origin;
  const ratePerSecond = clamp(form.get("rate"), 400, 1, 5_000);
  const durationMs = clamp(form.get("seconds"), 5, 1, 60) * 1_000;
  services.burst.running = true;
  void (async () => {
    try {
      const sent = await sendBurst({ baseUrl, ratePerSecond, durationMs, tenants: services.tenants });
      services.burst.lastReport = await finishBurst(baseUrl, sent);
    } catch (error) {
      services.burst.lastReport = { error: String(error) };
    } finally {
      services.burst.running = false;
    }
  })();
  return Response.json({ started: true, ratePerSecond, durationMs }, { status: 202 });
}
