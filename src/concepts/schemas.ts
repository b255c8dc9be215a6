/**
 * Zod building blocks shared by the concepts' schemas: ids, instants, local dates and times, time zones.
 *
 * @module
 */
import { z } from "zod";

/** An id as `newId()` makes it. */
export const Id = z.string().regex(/^[0-9a-f]{24}$/, "must be a 24-character lower-case hex id");

/** An instant with an explicit offset, e.g. `2025-03-30T09:15:00Z` or `2025-03-30T11:15:00+02:00`. */
export const IsoInstant = z.iso.datetime({ offset: true });

/** A calendar date, `YYYY-MM-DD`. */
export const LocalDate = z.iso.date();

/** A wall-clock time `HH:MM`, 00:00 to 23:59. */
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a 24-hour time HH:MM");

/** A wall-clock end time `HH:MM`, which may also be 24:00 (the end of the day). */
export const EndTimeOfDay = z.string().regex(
  /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/,
  "must be a 24-hour time HH:MM (24:00 for the end of the day)",
);

/**
 * The canonical spelling of an IANA time zone (`europe/amsterdam` gives `Europe/Amsterdam`), or undefined when
 * the runtime does not know it. Bare offsets such as `+01:00` are refused: they ignore daylight saving.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!/^[A-Za-z]/.test(name)) return undefined;
  try {
    // Temporal is what the window logic computes with, so it is the judge of what a valid zone is.
    return Temporal.Now.zonedDateTimeISO(name).timeZoneId;
  } catch {
    return undefined;
  }
}

/** An IANA time zone name, canonicalised. */
export const TimeZone = z.string().min(1).max(64)
  .refine(
    (name) => canonicalTimeZone(name) !== undefined,
    "must be an IANA time zone such as Europe/Amsterdam",
  )
  .transform((name) => canonicalTimeZone(name) ?? name);

/** Minutes since midnight of an `HH:MM` time (24:00 is 1440). */
export function minutesOfDay(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}
