/**
 * Zien's concepts, made once per process over the shared `Db`, and the flows that tie them together.
 *
 * @example
 * ```ts
 * const concepts = createConcepts(db);
 * await ensureConceptIndexes(concepts);
 * const { user } = await registerUser(concepts, { username: "ada", password: "correct horse" });
 * ```
 * @module
 */
export { type Clock, newId, systemClock } from "./common.ts";
export { ConceptError, type ConceptErrorKind, isDuplicateKeyError } from "./errors.ts";
export * from "./syncs.ts";
export {
  ACTIONS_CHANGING_USER_STATS,
  currentStreak,
  type PlatformStats,
  platformStats,
  type UserStats,
  userStats,
} from "./stats.ts";
export { CallScheduler } from "./CallScheduler/mod.ts";
export { CallWindow } from "./CallWindow/mod.ts";
export { JournalEntry } from "./JournalEntry/mod.ts";
export { JournalPrompt } from "./JournalPrompt/mod.ts";
export { Profile } from "./Profile/mod.ts";
export { ReflectionSession } from "./ReflectionSession/mod.ts";
export { UserAuth } from "./UserAuth/mod.ts";
export {
  type Concepts,
  createConcepts,
  type CreateConceptsOptions,
  ensureConceptIndexes,
} from "./concepts.ts";
