import type { Config } from "@react-router/dev/config";

export default {
  appDirectory: "app",
  // `dist` is what turbo caches for every package's build.
  buildDirectory: "dist",
  ssr: true,
} satisfies Config;
