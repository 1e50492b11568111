/** Parsed command line of `pnpm bench`. */
export interface CliArguments {
  /** Cases to run; empty for all. */
  readonly cases: readonly string[];
  readonly quick: boolean;
  /** Skip building the workspace packages first. */
  readonly skipBuild: boolean;
  readonly list: boolean;
  readonly help: boolean;
}

export const USAGE = `Usage: pnpm bench [-- options]

  --case <name>   run one case (repeat the flag or use commas for several)
  --quick         smoke run: short runs, fewer repetitions; figures are not final
  --no-build      do not build the workspace packages first
  --list          list the cases and exit
  --help          this text

A full run of every case writes bench/results/latest.{json,md} and burst-timeline.svg.
A --quick or --case run writes bench/results/partial.{json,md}.tmp instead, so it never
replaces the figures of a complete run.`;

/** Parses `argv` (without node and the script); throws on an unknown flag. */
export function parseCliArguments(argv: readonly string[]): CliArguments {
  const cases: string[] = [];
  let quick = false;
  let skipBuild = false;
  let list = false;
  let help = false;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === "--") continue;
    if (argument === "--quick") quick = true;
    else if (argument === "--no-build") skipBuild = true;
    else if (argument === "--list") list = true;
    else if (argument === "--help" || argument === "-h") help = true;
    else if (argument === "--case") {
      const value = argv[++index];
      if (value === undefined || value.startsWith("--")) throw new Error("--case needs a case name");
      cases.push(...value.split(",").filter((name) => name.length > 0));
    } else if (argument?.startsWith("--case=")) {
      cases.push(
        ...argument
          .slice("--case=".length)
          .split(",")
          .filter((name) => name.length > 0),
      );
    } else {
      throw new Error(`unknown argument ${JSON.stringify(argument)}\n\n${USAGE}`);
    }
  }
  return { cases, quick, skipBuild, list, help };
}
