import type { LoaderFunctionArgs } from "react-router";
import { retrieveRun } from "../api/handlers.server";
import { servicesOf } from "../context.server";

export const loader = ({ request, params, context }: LoaderFunctionArgs) =>
  retrieveRun(request, params, servicesOf(context));
