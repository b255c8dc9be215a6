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
import type { Db } from "mongodb";
import type { Clock } from "./common.ts";
import { CallScheduler } from "./CallScheduler/mod.ts";
import { CallWindow } from "./CallWindow/mod.ts";
import { JournalEntry } from "./JournalEntry/mod.ts";
import { JournalPrompt } from "./JournalPrompt/mod.ts";
import { Profile } from "./Profile/mod.ts";
import { ReflectionSession } from "./ReflectionSession/mod.ts";
import { UserAuth } from "./UserAuth/mod.ts";

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
export { CallScheduler, CallWindow, JournalEntry, JournalPrompt, Profile, ReflectionSession, UserAuth };

/** One instance of each concept, all over the same `Db`. */
export interface Concepts {
  userAuth: UserAuth;
  profile: Profile;
  journalPrompt: JournalPrompt;
  callWindow: CallWindow;
  reflectionSession: ReflectionSession;
  callScheduler: CallScheduler;
  journalEntry: JournalEntry;
}

/** Options for `createConcepts`. */
export interface CreateConceptsOptions {
  /** The current time for every concept; tests move it forward. @default systemClock */
  now?: Clock;
  /** How long this process remembers a resolved token; see `UserAuthOptions.tokenCacheMs`. */
  tokenCacheMs?: number;
}

/** Makes one instance of each concept over `db`. */
export function createConcepts(db: Db, options: CreateConceptsOptions = {}): Concepts {
  const shared = { now: options.now };
  return {
    userAuth: new UserAuth(db, { ...shared, tokenCacheMs: options.tokenCacheMs }),
    profile: new Profile(db, shared),
    journalPrompt: new JournalPrompt(db, shared),
    callWindow: new CallWindow(db, shared),
    reflectionSession: new ReflectionSession(db, shared),
    callScheduler: new CallScheduler(db, shared),
    journalEntry: new JournalEntry(db, shared),
  };
}

/** Creates every concept's indexes. Idempotent: call it at every start, before serving. */
export async function ensureConceptIndexes(concepts: Concepts): Promise<void> {
  for (const concept of Object.values(concepts)) await concept.ensureIndexes();
}
