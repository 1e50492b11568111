import type { Redis } from "ioredis";

/** The `EVALSHA` call one `accept` sends: SHA, key count, keys and arguments, as text. */
export interface CapturedScriptCall {
  readonly sha: string;
  readonly numberOfKeys: number;
  readonly keysAndArguments: readonly string[];
}

/**
 * Runs `action` once with `client` recording every `EVALSHA` it sends, and
 * returns the first one. Lets the ceiling measurement replay exactly what the
 * package sends, without the bench knowing the script's argument layout.
 */
export async function captureScriptCall(
  client: Redis,
  action: () => Promise<unknown>,
): Promise<CapturedScriptCall> {
  const calls: Array<readonly unknown[]> = [];
  const original = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    if (command.name.toLowerCase() === "evalsha") calls.push(command.args);
    return original(command, stream);
  };
  try {
    await action();
  } finally {
    client.sendCommand = original;
  }
  const [first] = calls;
  if (first === undefined) throw new Error("the action sent no EVALSHA");
  const [sha, numberOfKeys, ...rest] = first.map((value) =>
    Buffer.isBuffer(value) ? value.toString("utf8") : String(value),
  );
  if (sha === undefined || numberOfKeys === undefined) throw new Error("EVALSHA without a SHA");
  return { sha, numberOfKeys: Number(numberOfKeys), keysAndArguments: rest };
}
