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

  /** Nothing beyond `_id`: every query goes by user, which is the `_id`. */
  ensureIndexes(): Promise<void> {
    return Promise.resolve();
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

  /** The person's profile, `[]` until they set one. */
  async _getProfile(input: { user: string }): Promise<ProfileView[]> {
    const doc = await this.#profiles.findOne({ _id: input.user });
    if (!doc) return [];
    const { _id, ...fields } = doc;
    return [{ user: _id, ...fields }];
  }
}
