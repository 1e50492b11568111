import type { LoaderFunctionArgs } from "react-router";
import { listBuffer } from "../api/handlers.server";
import { servicesOf } from "../context.server";

export const loader = ({ request, context }: LoaderFunctionArgs) => listBuffer(request, servicesOf(context));
