/**
 * TTL indexes: documents whose indexed date is older than `expireAfterSeconds` are deleted by a sweep.
 *
 * @module
 */
import type { Catalog } from "./storage/catalog.ts";
import { valueAtPath } from "./storage/keys.ts";

// mongod expires by the earliest date when the field holds an array.
function expiryDate(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) {
    const dates = value.filter((item): item is Date => item instanceof Date).map((date) => date.getTime());
    return dates.length ? Math.min(...dates) : undefined;
  }
  return undefined;
}

/** Deletes every expired document under TTL indexes; returns how many it deleted. */
export function sweepExpired(catalog: Catalog, now = Date.now()): number {
  let deleted = 0;
  for (const db of catalog.databaseNames()) {
    for (const collection of catalog.collections(db).values()) {
      for (const index of collection.secondaryIndexes()) {
        const seconds = index.spec.expireAfterSeconds;
        if (typeof seconds !== "number" || index.fields.length !== 1) continue;
        const field = index.fields[0];
        const expired = [...collection.documents()].filter((doc) => {
          const date = expiryDate(valueAtPath(doc, field));
          return date !== undefined && date + seconds * 1000 <= now;
        });
        for (const doc of expired) collection.remove(doc);
        deleted += expired.length;
      }
    }
  }
  return deleted;
}
