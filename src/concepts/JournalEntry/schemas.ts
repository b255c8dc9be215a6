/**
 * The inputs JournalEntry accepts over HTTP.
 *
 * @module
 */
import { z } from "zod";
import { Id, LocalDate } from "../schemas.ts";

/** Where a page of entries continues: the `cursor` of the last entry of the previous page. */
export const EntryCursor = z.string().regex(
  /^\d{4}-\d{2}-\d{2}_[0-9a-f]{24}$/,
  "must be the cursor of an entry from an earlier page",
);

/** `_getEntries`: newest first, optionally between two local dates (inclusive), `limit` at a time. */
export const GetEntriesInput = z.strictObject({
  from: LocalDate.optional(),
  to: LocalDate.optional(),
  limit: z.int().min(1).max(100).default(20),
  after: EntryCursor.optional(),
}).refine((q) => !q.from || !q.to || q.from <= q.to, {
  message: "must not be before from",
  path: ["to"],
  when: (payload) => {
    // The value may be anything the caller sent, `null` included.
    const q = payload.value as { from?: unknown; to?: unknown } | null;
    return LocalDate.safeParse(q?.from).success && LocalDate.safeParse(q?.to).success;
  },
});

/** `_getEntryForDate`: the entries of one local date. */
export const GetEntryForDateInput = z.strictObject({ date: LocalDate });

/** `_getEntry`. */
export const GetEntryInput = z.strictObject({ entry: Id });

/** `deleteEntry`. */
export const DeleteEntryInput = z.strictObject({ entry: Id });
