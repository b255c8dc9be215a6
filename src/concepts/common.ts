/**
 * What every concept shares: how ids are made and where "now" comes from.
 *
 * @module
 */
import { ObjectId } from "mongodb";

/** Where a concept reads the current time; tests inject their own to move time forward. */
export type Clock = () => Date;

/** The clock of the real world. */
export const systemClock: Clock = () => new Date();

/** Options every concept constructor accepts after the `Db`. */
export interface ConceptOptions {
  /** The current time. @default systemClock */
  now?: Clock;
}

/**
 * A new id: 24 lower-case hex digits (an ObjectId's hex form, stored as a string). Ids are strings everywhere,
 * so they travel through JSON unchanged; ObjectIds sort by creation second, which keeps "newest first" cheap.
 */
export function newId(): string {
  return new ObjectId().toHexString();
}
