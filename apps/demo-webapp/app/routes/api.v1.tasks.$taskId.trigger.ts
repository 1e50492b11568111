import type { ActionFunctionArgs } from "react-router";
import { methodNotAllowed, triggerTask } from "../api/handlers.server";
import { servicesOf } from "../context.server";

export const action = ({ request, params, context }: ActionFunctionArgs) =>
  request.method === "POST" ? triggerTask(request, params, servicesOf(context)) : methodNotAllowed();
