import type { LoaderFunctionArgs } from "react-router";
import { servicesOf } from "../context.server";
import { statsSnapshot } from "../dashboard/stats-snapshot.server";

export async function loader({ context }: LoaderFunctionArgs) {
  return Response.json(await statsSnapshot(servicesOf(context)), {
    headers: { "cache-control": "no-store" },
  });
}
