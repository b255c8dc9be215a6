/**
 * The inputs Profile accepts over HTTP.
 *
 * @module
 */
import { z } from "zod";
import { TimeZone } from "../schemas.ts";

/** A phone number in E.164 form: `+`, a country code and up to 15 digits in all, e.g. `+31612345678`. */
export const PhoneNumber = z.string().regex(
  /^\+[1-9]\d{6,14}$/,
  "must be an E.164 phone number such as +31612345678",
);

/** `setProfile`: the whole profile; fields left out take their defaults. */
export const SetProfileInput = z.strictObject({
  phoneNumber: PhoneNumber,
  displayName: z.string().trim().min(1).max(100),
  /** How the caller should say the name, e.g. "LEE-uh". */
  namePronunciation: z.string().trim().max(200).default(""),
  timezone: TimeZone,
  /** How often a call that was not answered is retried. */
  maxRetries: z.int().min(0).max(5).default(3),
  /** Whether a reflection ends by asking for a 1-5 rating. */
  includeRating: z.boolean().default(false),
});

/** `_getProfile`: the caller's profile. */
export const GetProfileInput = z.strictObject({});

/** A profile as stored and returned. */
export type ProfileFields = z.output<typeof SetProfileInput>;
