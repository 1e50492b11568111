import type { ActionFunctionArgs } from "react-router";
import { cancelRun, methodNotAllowed } from "../api/handlers.server";
import { servicesOf } from "../context.server";

export const action = ({ request, params, context }: ActionFunctionArgs) =>
  request.method === "POST" ? cancelRun(request, params, servicesOf(context)) : methodNotAllowed();
