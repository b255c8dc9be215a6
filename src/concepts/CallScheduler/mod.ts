/**
 * CallScheduler: calls, their statuses, and one active call per person.
 *
 * @module
 */
export * from "./call_scheduler.ts";
export * from "./schemas.ts";
export * from "./call_queue.ts";
export * from "./occurrences.ts";
export * from "./queue_indexes.ts";
