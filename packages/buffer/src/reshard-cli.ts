#!/usr/bin/env node
// The `mollifier` bin: `mollifier reshard --to <n>` (see mollifier-command.ts, ADR 15).
import { runMollifierCommand } from "./mollifier-command.js";

const controller = new AbortController();
process.once("SIGINT", () => {
  process.stderr.write("stopping after the current step (run the command again to resume)\n");
  controller.abort(new Error("interrupted"));
});
process.exitCode = await runMollifierCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
