/**
 * The `hint` of a read or write: mongod refuses one that names no index of the collection.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import type { Collection } from "./collection.ts";
import { canonicalKey, isPlainObject } from "./keys.ts";

/** BadValue (2), as mongod's planner answers, when `hint` names no index of `collection`. */
export function checkHint(collection: Collection, hint: unknown): void {
  if (hint === undefined || hint === null) return;
  if (typeof hint === "string") {
    if (collection.indexSpecs().some((spec) => spec.name === hint)) return;
  } else if (isPlainObject(hint)) {
    const keys = Object.keys(hint);
    if (keys.length === 0 || (keys.length === 1 && keys[0] === "$natural")) return;
    const pattern = canonicalKey(hint as Document);
    if (collection.indexSpecs().some((spec) => canonicalKey(spec.key) === pattern)) return;
  } else {
    throw new CommandError("FailedToParse", "hint must be either a string or nested object");
  }
  throw new CommandError(
    "BadValue",
    `error processing query: ns=${collection.namespace} planner returned error :: caused by :: hint provided does not correspond to an existing index`,
  );
}
