/**
 * Batched, buffered inserts for the app's event streams (usage, analytics, call events): the writer, its
 * figures, and the three writers the app runs.
 *
 * @example
 * ```ts
 * import { createEventWriters } from "./db/batch/mod.ts";
 * const writers = createEventWriters(db, config.batch, { retry: config.retry });
 * for (const writer of writers.all) writer.start();
 * ```
 * @module
 */
export * from "./writer.ts";
export { createEventWriters, type EventWriters, type EventWritersOptions } from "./event_writers.ts";
