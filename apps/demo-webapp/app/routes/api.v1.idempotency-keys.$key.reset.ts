import type { ActionFunctionArgs } from "react-router";
import { methodNotAllowed, resetIdempotencyKey } from "../api/handlers.server";
import { servicesOf } from "../context.server";

export const action = ({ request, params, context }: ActionFunctionArgs) =>
  request.method === "POST" ? resetIdempotencyKey(request, params, servicesOf(context)) : methodNotAllowed();
