/**
 * The inputs CallWindow accepts over HTTP.
 *
 * @module
 */
import { z } from "zod";
import { EndTimeOfDay, Id, IsoInstant, LocalDate, minutesOfDay, TimeOfDay } from "../schemas.ts";

/** The most windows one person may keep. */
export const MAX_WINDOWS = 50;

const endAfterStart = {
  message: "must be after start (windows end on the day they start; 24:00 is the latest end)",
  path: ["end"],
  // Only once both times are well-formed: a malformed start is reported on start alone.
  when: (payload: { value: unknown }) => {
    // The value may be anything the caller sent, `null` included.
    const w = payload.value as { start?: unknown; end?: unknown } | null;
    return TimeOfDay.safeParse(w?.start).success && EndTimeOfDay.safeParse(w?.end).success;
  },
};

/** `addRecurringWindow`: every week on `dayOfWeek` (1 = Monday ... 7 = Sunday), from `start` to `end`. */
export const AddRecurringWindowInput = z.strictObject({
  dayOfWeek: z.int().min(1).max(7),
  start: TimeOfDay,
  end: EndTimeOfDay,
}).refine((w) => minutesOfDay(w.end) > minutesOfDay(w.start), endAfterStart);

/** `addOneOffWindow`: once, on `date`; on that date it replaces the recurring windows. */
export const AddOneOffWindowInput = z.strictObject({
  date: LocalDate,
  start: TimeOfDay,
  end: EndTimeOfDay,
}).refine((w) => minutesOfDay(w.end) > minutesOfDay(w.start), endAfterStart);

/** `removeWindow`. */
export const RemoveWindowInput = z.strictObject({ window: Id });

/** `_getWindows`. */
export const GetWindowsInput = z.strictObject({});

/** `_getActiveWindow`: the window open at instant `at`, in the person's time zone. */
export const GetActiveWindowInput = z.strictObject({ at: IsoInstant });
