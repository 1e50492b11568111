import type { ActionFunctionArgs } from "react-router";
import { addRunTags, methodNotAllowed } from "../api/handlers.server";
import { servicesOf } from "../context.server";

export const action = ({ request, params, context }: ActionFunctionArgs) =>
  request.method === "POST" ? addRunTags(request, params, servicesOf(context)) : methodNotAllowed();
