/**
 * The inputs ReflectionSession accepts over HTTP.
 *
 * @module
 */
import { z } from "zod";
import { Id } from "../schemas.ts";

/** How a reflection happens: a phone call, or typed in the app. */
export const Mode = z.enum(["phone", "text"]);

/** A session's life: IN_PROGRESS, then COMPLETED or ABANDONED, and never back. */
export const SessionStatus = z.enum(["IN_PROGRESS", "COMPLETED", "ABANDONED"]);

/** `startSession`: a new session over the person's active prompts. */
export const StartSessionInput = z.strictObject({ mode: Mode });

/** `recordResponse`: the answer to one prompt of the session (a second answer replaces the first). */
export const RecordResponseInput = z.strictObject({
  session: Id,
  promptId: Id,
  text: z.string().trim().min(1).max(10_000),
});

/** `completeSession`, with the optional 1-5 rating. */
export const CompleteSessionInput = z.strictObject({ session: Id, rating: z.int().min(1).max(5).optional() });

/** `abandonSession`. */
export const AbandonSessionInput = z.strictObject({ session: Id });

/** `_getSession`. */
export const GetSessionInput = z.strictObject({ session: Id });

/** `_getSessions`: the person's sessions, newest first. */
export const GetSessionsInput = z.strictObject({
  status: SessionStatus.optional(),
  limit: z.int().min(1).max(100).default(20),
});
