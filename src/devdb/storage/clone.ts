/**
 * Deep copies of documents, so that stored documents never share objects with requests or replies.
 *
 * Hand-written because `structuredClone` drops the prototypes of BSON classes (ObjectId would become a
 * plain object); BSON values other than Date are immutable and are shared as they are.
 *
 * @module
 */

/** A deep copy of plain objects, arrays and Dates; BSON value instances are kept. */
export function cloneValue<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const key in value) copy[key] = cloneValue((value as Record<string, unknown>)[key]);
  return copy as T;
}
