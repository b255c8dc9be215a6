/**
 * Profile: how to reach a person and how they want to be called.
 *
 * @module
 */
import type { Collection, Db } from "mongodb";
import { type Clock, type ConceptOptions, systemClock } from "../common.ts";
import type { ProfileFields } from "./schemas.ts";

interface ProfileDoc extends ProfileFields {
  /** The user id: one profile per person. */
  _id: string;
  updatedAt: Date;
}

/** A profile as `_getProfile` returns it. */
export interface ProfileView extends ProfileFields {
  user: string;
  updatedAt: Date;
}

/** The Profile concept. Collection: `Profile.profiles`, keyed by user. */
export class Profile {
  readonly #profiles: Collection<ProfileDoc>;
  readonly #now: Clock;

  constructor(db: Db, options: ConceptOptions = {}) {
    this.#profiles = db.collection<ProfileDoc>("Profile.profiles");
    this.#now = options.now ?? systemClock;
  }

  /**
   * Queries by user go by `_id`; the call-window worker's list of time zones in use (`_getTimezones`) has its
   * own index, so it reads index keys instead of every profile.
   */
  async ensureIndexes(): Promise<void> {
    await this.#profiles.createIndex({ timezone: 1 }, { name: "timezone" });
  }

  /** Creates or replaces the person's profile. */
  async setProfile(input: ProfileFields & { user: string }): Promise<{ user: string }> {
    const { user, ...fields } = input;
    await this.#profiles.replaceOne(
      { _id: user },
      {
        phoneNumber: fields.phoneNumber,
        displayName: fields.displayName,
        namePronunciation: fields.namePronunciation,
        timezone: fields.timezone,
        maxRetries: fields.maxRetries,
        includeRating: fields.includeRating,
        updatedAt: this.#now(),
      },
      { upsert: true },
    );
    return { user };
  }

  /** The profiles of any of `users` (one query, by `_id`); people with no profile are left out. */
  async _getProfiles(input: { users: readonly string[] }): Promise<ProfileView[]> {
    if (input.users.length === 0) return [];
    // One reply for the whole list, not batches of 101: the worker's tick is a fixed number of round trips.
    const docs = await this.#profiles.find({ _id: { $in: [...input.users] } }, {
      batchSize: input.users.length,
    })
      .toArray();
    return docs.map(({ _id, ...fields }) => ({ user: _id, ...fields }));
  }

  /** Every time zone some profile is in (a `distinct` over the `timezone` index). */
  async _getTimezones(): Promise<string[]> {
    return await this.#profiles.distinct("timezone");
  }

  /** The person's profile, `[]` until they set one. */
  async _getProfile(input: { user: string }): Promise<ProfileView[]> {
    const doc = await this.#profiles.findOne({ _id: input.user });
    if (!doc) return [];
    const { _id, ...fields } = doc;
    return [{ user: _id, ...fields }];
  }
}
