/**
 * JournalPrompt: the questions a person is asked in a reflection, in their order, each active or not.
 *
 * @module
 */
import type { Collection, Db } from "mongodb";
import { type Clock, type ConceptOptions, newId, systemClock } from "../common.ts";
import { ConceptError } from "../errors.ts";
import { MAX_PROMPTS } from "./schemas.ts";

/** The prompts a new person starts with. */
export const DEFAULT_PROMPTS: readonly string[] = [
  "What is one thing that went well today?",
  "What is on your mind for tomorrow?",
];

interface PromptDoc {
  _id: string;
  user: string;
  text: string;
  /** Lower comes first; ties fall back to `_id`. */
  position: number;
  active: boolean;
  createdAt: Date;
}

/** A prompt as the queries return it. */
export interface PromptView {
  _id: string;
  text: string;
  position: number;
  active: boolean;
}

const VIEW = { _id: 1, text: 1, position: 1, active: 1 } as const;
const ORDER = { position: 1, _id: 1 } as const;

/** The JournalPrompt concept. Collection: `JournalPrompt.prompts`. */
export class JournalPrompt {
  readonly #prompts: Collection<PromptDoc>;
  readonly #now: Clock;

  constructor(db: Db, options: ConceptOptions = {}) {
    this.#prompts = db.collection<PromptDoc>("JournalPrompt.prompts");
    this.#now = options.now ?? systemClock;
  }

  /** Creates this concept's indexes; safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.#prompts.createIndex({ user: 1, position: 1, _id: 1 }, { name: "user_position" });
    await this.#prompts.createIndex({ user: 1, active: 1, position: 1, _id: 1 }, {
      name: "user_active_position",
    });
  }

  /** Gives a person the default prompts, unless they already have prompts (so a retry adds none twice). */
  async addDefaultPrompts(input: { user: string }): Promise<{ prompts: string[] }> {
    if (await this.#prompts.findOne({ user: input.user }, { projection: { _id: 1 } })) return { prompts: [] };
    const now = this.#now();
    const docs = DEFAULT_PROMPTS.map((text, position) => ({
      _id: newId(),
      user: input.user,
      text,
      position,
      active: true,
      createdAt: now,
    }));
    await this.#prompts.insertMany(docs);
    return { prompts: docs.map((doc) => doc._id) };
  }

  /** Adds an active prompt after the person's last one. */
  async addPrompt(input: { user: string; text: string }): Promise<{ prompt: string }> {
    const mine = await this.#prompts.countDocuments({ user: input.user });
    if (mine >= MAX_PROMPTS) {
      throw new ConceptError(
        "conflict",
        `You already have ${MAX_PROMPTS} prompts; delete one before adding another.`,
      );
    }
    const last = await this.#prompts.findOne({ user: input.user }, {
      sort: { position: -1, _id: -1 },
      projection: { position: 1 },
    });
    const doc: PromptDoc = {
      _id: newId(),
      user: input.user,
      text: input.text,
      position: last ? last.position + 1 : 0,
      active: true,
      createdAt: this.#now(),
    };
    await this.#prompts.insertOne(doc);
    return { prompt: doc._id };
  }

  /** Changes a prompt's wording or switches it on or off. */
  async updatePrompt(
    input: { user: string; prompt: string; text?: string; active?: boolean },
  ): Promise<{ prompt: string }> {
    const set: Partial<PromptDoc> = {};
    if (input.text !== undefined) set.text = input.text;
    if (input.active !== undefined) set.active = input.active;
    if (Object.keys(set).length === 0) throw new ConceptError("invalid", "Give new text or active, or both.");
    const result = await this.#prompts.updateOne({ _id: input.prompt, user: input.user }, { $set: set });
    if (result.matchedCount === 0) throw notFound();
    return { prompt: input.prompt };
  }

  /** Deletes a prompt. Sessions already started keep their snapshot of it. */
  async deletePrompt(input: { user: string; prompt: string }): Promise<{ prompt: string }> {
    const result = await this.#prompts.deleteOne({ _id: input.prompt, user: input.user });
    if (result.deletedCount === 0) throw notFound();
    return { prompt: input.prompt };
  }

  /** Puts the person's prompts in the given order, which must name each of them exactly once. */
  async reorderPrompts(input: { user: string; order: string[] }): Promise<{ prompts: string[] }> {
    const current = await this.#prompts.find({ user: input.user }, { projection: { _id: 1 }, sort: ORDER })
      .toArray();
    const ids = new Set(current.map((doc) => doc._id));
    const given = new Set(input.order);
    if (
      given.size !== input.order.length || given.size !== ids.size || input.order.some((id) => !ids.has(id))
    ) {
      throw new ConceptError("invalid", "The order must list each of your prompts exactly once.");
    }
    await this.#prompts.bulkWrite(input.order.map((id, position) => ({
      updateOne: { filter: { _id: id, user: input.user }, update: { $set: { position } } },
    })));
    return { prompts: input.order };
  }

  /** All the person's prompts, in order. */
  async _getPrompts(input: { user: string }): Promise<PromptView[]> {
    return await this.#prompts.find({ user: input.user }, { projection: VIEW, sort: ORDER }).toArray();
  }

  /**
   * The active prompts of each of `users`, in order (one query, on `user_active_position`): what a reflection
   * started for each of them will ask. People with no active prompt are left out.
   */
  async _getActivePromptsOfUsers(
    input: { users: readonly string[] },
  ): Promise<{ user: string; prompts: PromptView[] }[]> {
    if (input.users.length === 0) return [];
    const docs = await this.#prompts.find(
      { user: { $in: [...input.users] }, active: true },
      { projection: { ...VIEW, user: 1 }, sort: { user: 1, ...ORDER }, batchSize: 10_000 },
    ).toArray();
    const byUser = new Map<string, PromptView[]>();
    for (const { user, ...prompt } of docs) {
      const prompts = byUser.get(user) ?? [];
      prompts.push(prompt);
      byUser.set(user, prompts);
    }
    return [...byUser].map(([user, prompts]) => ({ user, prompts }));
  }

  /** The person's active prompts, in order: what a reflection will ask. */
  async _getActivePrompts(input: { user: string }): Promise<PromptView[]> {
    return await this.#prompts.find({ user: input.user, active: true }, { projection: VIEW, sort: ORDER })
      .toArray();
  }
}

function notFound(): ConceptError {
  return new ConceptError("not_found", "There is no such prompt.");
}
