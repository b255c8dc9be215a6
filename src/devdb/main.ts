/**
 * `deno task devdb`: runs the embedded server until SIGINT or SIGTERM.
 *
 * The first line of stdout is the server's `mongodb://` URL (scripts read it): a seed list with
 * `replicaSet=` for a replica set, with the app user's credentials for `--atlas-m0`. Logs go to stderr, and
 * never carry the URL, which may hold a password.
 *
 * @module
 */
import { configure, getTextFormatter, type LogLevel } from "@logtape/logtape";
import { parseCliArgs, USAGE } from "./cli_args.ts";
import { devdbLogger } from "./log.ts";
import { startDevDb } from "./server.ts";

const LEVELS: LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];
const encoder = new TextEncoder();

function writeLine(stream: typeof Deno.stdout, line: string): void {
  const bytes = encoder.encode(line + "\n");
  for (let written = 0; written < bytes.length;) written += stream.writeSync(bytes.subarray(written));
}

async function setupStderrLogging(): Promise<void> {
  const requested = Deno.env.get("LOG_LEVEL")?.toLowerCase();
  const level = LEVELS.find((candidate) =>
    candidate === requested || (requested === "warn" && candidate === "warning")
  );
  const format = getTextFormatter({
    timestamp: "date-time-tz",
    category: ".",
    value: (value, inspect) => typeof value === "string" ? value : inspect(value),
  });
  await configure({
    sinks: { stderr: (record) => writeLine(Deno.stderr, format(record).trimEnd()) },
    loggers: [
      { category: ["zien", "devdb"], lowestLevel: level ?? "info", sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

async function main(): Promise<number> {
  const parsed = parseCliArgs(Deno.args);
  if ("error" in parsed) {
    writeLine(Deno.stderr, `${parsed.error}\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    writeLine(Deno.stdout, USAGE);
    return 0;
  }
  await setupStderrLogging();
  const log = devdbLogger("main");
  const server = await startDevDb(parsed.options);
  writeLine(Deno.stdout, server.url);
  log.info("serving {hosts} (data: {data}); stop with Ctrl-C or SIGTERM", {
    hosts: server.members.map((member) => `${member.host}:${member.port}`).join(","),
    data: parsed.options.dataDir ?? "memory only",
  });
  const signal = await new Promise<Deno.Signal>((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handlers = signals.map((name) => {
      const handler = () => {
        signals.forEach((other, i) => Deno.removeSignalListener(other, handlers[i]));
        resolve(name);
      };
      Deno.addSignalListener(name, handler);
      return handler;
    });
  });
  log.info("{signal} received, stopping", { signal });
  await server.stop();
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    writeLine(Deno.stderr, `devdb failed to start: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
