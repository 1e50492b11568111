import type { ActionFunctionArgs } from "react-router";
import { methodNotAllowed, setRunMetadata } from "../api/handlers.server";
import { servicesOf } from "../context.server";

export const action = ({ request, params, context }: ActionFunctionArgs) =>
  request.method === "PUT" ? setRunMetadata(request, params, servicesOf(context)) : methodNotAllowed();
