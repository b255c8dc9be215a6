/**
 * JournalEntry: the entries completed reflections leave, paged newest first.
 *
 * @module
 */
export * from "./journal_entry.ts";
export * from "./schemas.ts";
