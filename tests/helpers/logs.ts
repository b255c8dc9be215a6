/**
 * Capturing the app's log records in memory, for tests that assert on what was (or was not) logged.
 *
 * @module
 */
import { configure, type LogRecord, reset } from "@logtape/logtape";

/** Collects every zien.* record (debug and up) while `body` runs, then resets logging. */
export async function capturingLogs(body: (records: LogRecord[]) => Promise<void>): Promise<void> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record: LogRecord) => records.push(record) },
    loggers: [
      { category: ["zien"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  try {
    await body(records);
  } finally {
    await reset();
  }
}
