/**
 * Which call window is open at an instant, in a person's time zone: pure functions, shared by the
 * `_getActiveWindow` query and the call-window worker.
 *
 * Windows are wall-clock times: "Mondays 09:00-10:00" means 09:00 on the person's clock whatever the offset
 * that day, so a window keeps its local hours across daylight-saving changes. A time that does not exist on
 * the clock (the hour skipped in spring) matches no window; a repeated hour (autumn) matches both times.
 *
 * @module
 */
import { minutesOfDay } from "../schemas.ts";

/** A window as stored: recurring on an ISO day of the week, or once on a date. */
export interface WindowSpec {
  _id: string;
  kind: "recurring" | "oneoff";
  /** Recurring windows: 1 = Monday ... 7 = Sunday (ISO, as Temporal counts). */
  dayOfWeek?: number;
  /** One-off windows: `YYYY-MM-DD`. */
  date?: string;
  /** `HH:MM`, inclusive. */
  start: string;
  /** `HH:MM` or `24:00`, exclusive. */
  end: string;
}

/** Where an instant falls on a person's clock. */
export interface LocalMoment {
  /** `YYYY-MM-DD` */
  date: string;
  /** 1 = Monday ... 7 = Sunday */
  dayOfWeek: number;
  /** Minutes since local midnight. */
  minutes: number;
}

/** An open window and the occurrence of it that is open. */
export interface ActiveWindow {
  window: string;
  kind: "recurring" | "oneoff";
  start: string;
  end: string;
  /** The local date of this occurrence. */
  localDate: string;
  /** This occurrence's start and end as instants (ISO, UTC). */
  startsAt: string;
  endsAt: string;
  /** Names this occurrence uniquely (`<window>:<localDate>`): one call per occurrence can key on it. */
  occurrence: string;
}

function toInstant(at: Temporal.Instant | Date | string): Temporal.Instant {
  if (at instanceof Temporal.Instant) return at;
  if (at instanceof Date) return Temporal.Instant.fromEpochMilliseconds(at.getTime());
  return Temporal.Instant.from(at);
}

/** Where `at` falls on the clock of `timeZone`. */
export function localMoment(at: Temporal.Instant | Date | string, timeZone: string): LocalMoment {
  const local = toInstant(at).toZonedDateTimeISO(timeZone);
  return {
    date: local.toPlainDate().toString(),
    dayOfWeek: local.dayOfWeek,
    minutes: local.hour * 60 + local.minute,
  };
}

/** The instant at which wall-clock `time` (`HH:MM`, or `24:00`) happens on `date` in `timeZone`. */
export function wallClockInstant(date: string, time: string, timeZone: string): Temporal.Instant {
  let day = Temporal.PlainDate.from(date);
  let clock = time;
  if (time === "24:00") {
    day = day.add({ days: 1 });
    clock = "00:00";
  }
  // "compatible": a skipped time moves forward, a repeated time takes its first occurrence, as calendars do.
  return day.toZonedDateTime({ timeZone, plainTime: Temporal.PlainTime.from(clock) }).toInstant();
}

/** The windows that apply on a local date: its one-off windows if it has any, else that weekday's recurring ones. */
export function windowsForDay(windows: readonly WindowSpec[], date: string, dayOfWeek: number): WindowSpec[] {
  const oneOffs = windows.filter((w) => w.kind === "oneoff" && w.date === date);
  if (oneOffs.length > 0) return oneOffs;
  return windows.filter((w) => w.kind === "recurring" && w.dayOfWeek === dayOfWeek);
}

/** The window open at `at` in `timeZone`, if any. */
export function findActiveWindow(
  windows: readonly WindowSpec[],
  at: Temporal.Instant | Date | string,
  timeZone: string,
): ActiveWindow | undefined {
  const now = localMoment(at, timeZone);
  const open = windowsForDay(windows, now.date, now.dayOfWeek)
    .find((w) => minutesOfDay(w.start) <= now.minutes && now.minutes < minutesOfDay(w.end));
  if (!open) return undefined;
  return {
    window: open._id,
    kind: open.kind,
    start: open.start,
    end: open.end,
    localDate: now.date,
    startsAt: wallClockInstant(now.date, open.start, timeZone).toString(),
    endsAt: wallClockInstant(now.date, open.end, timeZone).toString(),
    occurrence: `${open._id}:${now.date}`,
  };
}

/** Whether two windows on the same day share any minute (touching end to start is fine). */
export function overlaps(
  a: Pick<WindowSpec, "start" | "end">,
  b: Pick<WindowSpec, "start" | "end">,
): boolean {
  return minutesOfDay(a.start) < minutesOfDay(b.end) && minutesOfDay(b.start) < minutesOfDay(a.end);
}
