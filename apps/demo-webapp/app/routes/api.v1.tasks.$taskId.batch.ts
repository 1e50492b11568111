import type { ActionFunctionArgs } from "react-router";
import { batchTrigger, methodNotAllowed } from "../api/handlers.server";
import { servicesOf } from "../context.server";

export const action = ({ request, params, context }: ActionFunctionArgs) =>
  request.method === "POST" ? batchTrigger(request, params, servicesOf(context)) : methodNotAllowed();
