/**
 * JournalPrompt: a person's reflection questions.
 *
 * @module
 */
export * from "./journal_prompt.ts";
export * from "./schemas.ts";
