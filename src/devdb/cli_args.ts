/**
 * The devdb command line: `[--port N] [--data-dir DIR] [--max-connections N] [--hostname H] [--in-memory]`.
 *
 * Parsed by hand: `node:util`'s parseArgs would do, but it cannot say which numbers are valid.
 *
 * @module
 */
import type { DevDbOptions } from "./types.ts";

/** The default port, MongoDB's own, so that tools find the server without being told. */
export const DEFAULT_PORT = 27017;
/** Where the data lives unless `--data-dir` or `--in-memory` says otherwise. */
export const DEFAULT_DATA_DIR = ".data/devdb";

/** The usage line. */
export const USAGE =
  "usage: deno task devdb [--port N] [--data-dir DIR | --in-memory] [--max-connections N] [--hostname HOST]";

/** The parsed command line, or a usage error. */
export type CliArgs = { options: DevDbOptions; help: boolean } | { error: string };

function integer(flag: string, value: string | undefined, min: number, max: number): number | string {
  const number = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || number < min || number > max) {
    return `${flag} needs an integer from ${min} to ${max}, got ${value ?? "nothing"}`;
  }
  return number;
}

/** Parses `args` (flags as `--flag value` or `--flag=value`). */
export function parseCliArgs(args: string[]): CliArgs {
  const options: DevDbOptions = { port: DEFAULT_PORT, dataDir: DEFAULT_DATA_DIR };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const takeValue = () => inline ?? args[++i];
    switch (flag) {
      case "--help":
      case "-h":
        return { options, help: true };
      case "--port": {
        const port = integer(flag, takeValue(), 0, 65535);
        if (typeof port === "string") return { error: port };
        options.port = port;
        break;
      }
      case "--max-connections": {
        const max = integer(flag, takeValue(), 1, 1_000_000);
        if (typeof max === "string") return { error: max };
        options.maxConnections = max;
        break;
      }
      case "--data-dir": {
        const dir = takeValue();
        if (!dir) return { error: "--data-dir needs a directory" };
        options.dataDir = dir;
        break;
      }
      case "--in-memory":
        options.dataDir = undefined;
        break;
      case "--hostname": {
        const hostname = takeValue();
        if (!hostname) return { error: "--hostname needs an address" };
        options.hostname = hostname;
        break;
      }
      default:
        return { error: `unknown argument ${args[i]}` };
    }
  }
  return { options, help: false };
}
