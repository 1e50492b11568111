import type { AppServices } from "./services.server";

declare module "react-router" {
  interface AppLoadContext {
    services?: AppServices;
  }
}

/** The process's services, passed by the server entry as the load context. */
export function servicesOf(context: { services?: AppServices } | undefined): AppServices {
  const services = context?.services;
  if (!services) {
    throw new Error("the app's services are missing from the load context: start it with `pnpm demo`");
  }
  return services;
}
