/**
 * ReflectionSession: one sitting (a call or a typed session) in which a person answers their prompts.
 *
 * @module
 */
import type { Collection, Db } from "mongodb";
import type { z } from "zod";
import { type Clock, type ConceptOptions, newId, systemClock } from "../common.ts";
import { ConceptError } from "../errors.ts";
import type { Mode, SessionStatus } from "./schemas.ts";

/** `phone` or `text`. */
export type SessionMode = z.infer<typeof Mode>;
/** `IN_PROGRESS`, `COMPLETED` or `ABANDONED`. */
export type SessionStatusValue = z.infer<typeof SessionStatus>;

/** A prompt as the session saw it when it started. */
export interface PromptSnapshot {
  promptId: string;
  text: string;
}

interface SessionDoc {
  _id: string;
  user: string;
  mode: SessionMode;
  status: SessionStatusValue;
  prompts: PromptSnapshot[];
  /** Keyed by prompt id (24 hex digits, so always a safe field name): a second answer simply replaces. */
  responses: Record<string, { text: string; recordedAt: Date }>;
  rating?: number;
  startedAt: Date;
  endedAt?: Date;
}

/** A session as the queries return it: each prompt with its answer, in the order they were asked. */
export interface SessionView {
  _id: string;
  user: string;
  mode: SessionMode;
  status: SessionStatusValue;
  prompts: { promptId: string; text: string; response?: string; recordedAt?: Date }[];
  rating?: number;
  startedAt: Date;
  endedAt?: Date;
}

/** The ReflectionSession concept. Collection: `ReflectionSession.sessions`. */
export class ReflectionSession {
  readonly #sessions: Collection<SessionDoc>;
  readonly #now: Clock;

  constructor(db: Db, options: ConceptOptions = {}) {
    this.#sessions = db.collection<SessionDoc>("ReflectionSession.sessions");
    this.#now = options.now ?? systemClock;
  }

  /** Creates this concept's indexes; safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.#sessions.createIndex({ user: 1, startedAt: -1 }, { name: "user_startedAt" });
  }

  /** Starts a session over `prompts` (the person's active prompts, which the session keeps as they are now). */
  async startSession(
    input: { user: string; mode: SessionMode; prompts: readonly PromptSnapshot[] },
  ): Promise<{ session: string }> {
    if (input.prompts.length === 0) {
      throw new ConceptError("invalid", "You have no active prompts; add or switch on a prompt first.");
    }
    const doc: SessionDoc = {
      _id: newId(),
      user: input.user,
      mode: input.mode,
      status: "IN_PROGRESS",
      prompts: input.prompts.map(({ promptId, text }) => ({ promptId, text })),
      responses: {},
      startedAt: this.#now(),
    };
    await this.#sessions.insertOne(doc);
    return { session: doc._id };
  }

  /** Records the answer to one of the session's prompts; answering again replaces the earlier answer. */
  async recordResponse(
    input: { user: string; session: string; promptId: string; text: string },
  ): Promise<{ session: string }> {
    if (!/^[0-9a-f]{24}$/.test(input.promptId)) throw notAPrompt();
    const result = await this.#sessions.updateOne(
      { _id: input.session, user: input.user, status: "IN_PROGRESS", "prompts.promptId": input.promptId },
      { $set: { [`responses.${input.promptId}`]: { text: input.text, recordedAt: this.#now() } } },
    );
    if (result.matchedCount === 0) {
      const doc = await this.#mine(input);
      if (doc.status !== "IN_PROGRESS") throw notInProgress(doc.status);
      throw notAPrompt();
    }
    return { session: input.session };
  }

  /** Completes a session that has at least one answer. */
  async completeSession(
    input: { user: string; session: string; rating?: number },
  ): Promise<{ session: string }> {
    const set: Partial<SessionDoc> = { status: "COMPLETED", endedAt: this.#now() };
    if (input.rating !== undefined) set.rating = input.rating;
    // One update decides, answers required; the session is read only to say why it refused.
    const result = await this.#sessions.updateOne(
      { _id: input.session, user: input.user, status: "IN_PROGRESS", responses: { $ne: {} } },
      { $set: set },
    );
    if (result.matchedCount === 0) {
      const doc = await this.#mine(input);
      if (doc.status !== "IN_PROGRESS") throw notInProgress(doc.status);
      throw new ConceptError("invalid", "Answer at least one prompt before completing the session.");
    }
    return { session: input.session };
  }

  /** Abandons a session that is in progress. */
  async abandonSession(input: { user: string; session: string }): Promise<{ session: string }> {
    await this.#transition(input, { status: "ABANDONED", endedAt: this.#now() });
    return { session: input.session };
  }

  /** One of the person's sessions; refuses (`not_found`) anyone else's. */
  async _getSession(input: { user: string; session: string }): Promise<SessionView[]> {
    return [view(await this.#mine(input))];
  }

  /** The person's sessions, newest first, optionally only those with one status. */
  async _getSessions(
    input: { user: string; status?: SessionStatusValue; limit: number },
  ): Promise<SessionView[]> {
    const filter = input.status ? { user: input.user, status: input.status } : { user: input.user };
    const docs = await this.#sessions.find(filter, { sort: { startedAt: -1 }, limit: input.limit }).toArray();
    return docs.map(view);
  }

  // The status test sits in the update's filter, so of two racing transitions exactly one wins.
  async #transition(input: { user: string; session: string }, set: Partial<SessionDoc>): Promise<void> {
    const result = await this.#sessions.updateOne(
      { _id: input.session, user: input.user, status: "IN_PROGRESS" },
      { $set: set },
    );
    if (result.matchedCount === 0) throw notInProgress((await this.#mine(input)).status);
  }

  async #mine(input: { user: string; session: string }): Promise<SessionDoc> {
    const doc = await this.#sessions.findOne({ _id: input.session, user: input.user });
    if (!doc) throw new ConceptError("not_found", "There is no such session.");
    return doc;
  }
}

function view(doc: SessionDoc): SessionView {
  const { responses, prompts, ...rest } = doc;
  return {
    ...rest,
    prompts: prompts.map((p) => {
      const answer = responses[p.promptId];
      return answer ? { ...p, response: answer.text, recordedAt: answer.recordedAt } : { ...p };
    }),
  };
}

function notInProgress(status: SessionStatusValue): ConceptError {
  return new ConceptError("conflict", `This session is already ${status.toLowerCase().replace("_", " ")}.`);
}

function notAPrompt(): ConceptError {
  return new ConceptError("invalid", "That prompt is not part of this session.");
}
