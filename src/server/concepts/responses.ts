/**
 * What each concept action answers, as zod schemas: the routes shape every answer through its schema
 * (dropping anything a concept returns that the API does not promise) and the API document is made from the
 * same schemas, so a generated client's types and the answers cannot drift apart.
 *
 * @module
 */
import { z } from "zod";
import { CallStatus } from "../../concepts/CallScheduler/mod.ts";
import { Mode, SessionStatus } from "../../concepts/ReflectionSession/mod.ts";

// Dates leave as ISO 8601 strings (what JSON.stringify made of them before), and the document says so.
const Instant = z.codec(z.date(), z.iso.datetime(), {
  decode: (date) => date.toISOString(),
  encode: (text) => new Date(text),
});

const id = (name: string, description: string) => z.object({ [name]: z.string().describe(description) });
const UserId = id("user", "The person's id.");
const PromptId = id("prompt", "The prompt's id.");
const WindowId = id("window", "The call window's id.");
const SessionId = id("session", "The reflection session's id.");
const CallId = id("call", "The scheduled call's id.");

const Login = z.object({
  token: z.string().describe("The bearer token: send it as Authorization: Bearer <token>. Valid 30 days."),
  user: z.string().describe("The person's id."),
}).meta({ id: "LoginResult" });

const User = z.object({ user: z.string(), username: z.string() }).meta({ id: "User" });

const Profile = z.object({
  user: z.string(),
  phoneNumber: z.string(),
  displayName: z.string(),
  namePronunciation: z.string(),
  timezone: z.string().describe("An IANA time zone, e.g. Europe/Amsterdam."),
  maxRetries: z.int(),
  includeRating: z.boolean(),
  updatedAt: Instant,
}).meta({ id: "Profile" });

const Prompt = z.object({
  _id: z.string(),
  text: z.string(),
  position: z.int(),
  active: z.boolean(),
}).meta({ id: "Prompt" });

const Window = z.object({
  _id: z.string(),
  kind: z.enum(["recurring", "oneoff"]),
  dayOfWeek: z.int().optional().describe("Recurring windows: 1 = Monday ... 7 = Sunday."),
  date: z.string().optional().describe("One-off windows: YYYY-MM-DD."),
  start: z.string().describe("HH:MM, inclusive."),
  end: z.string().describe("HH:MM or 24:00, exclusive."),
}).meta({ id: "CallWindow" });

const ActiveWindow = z.object({
  window: z.string(),
  kind: z.enum(["recurring", "oneoff"]),
  start: z.string(),
  end: z.string(),
  localDate: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  occurrence: z.string(),
}).meta({ id: "ActiveWindow" });

const Session = z.object({
  _id: z.string(),
  user: z.string(),
  mode: Mode,
  status: SessionStatus,
  prompts: z.array(z.object({
    promptId: z.string(),
    text: z.string(),
    response: z.string().optional(),
    recordedAt: Instant.optional(),
  })),
  rating: z.int().optional(),
  startedAt: Instant,
  endedAt: Instant.optional(),
}).meta({ id: "ReflectionSession" });

const Call = z.object({
  _id: z.string(),
  reflectionSession: z.string(),
  phoneNumber: z.string(),
  scheduledFor: Instant,
  status: CallStatus,
  attempts: z.int(),
  nextAttemptAt: Instant,
  createdAt: Instant,
  updatedAt: Instant,
  endedAt: Instant.nullable(),
}).meta({ id: "ScheduledCall" });

const Entry = z.object({
  _id: z.string(),
  reflectionSession: z.string(),
  date: z.string().describe("The local date (YYYY-MM-DD) the reflection started on."),
  mode: z.string(),
  responses: z.array(z.object({ promptId: z.string(), prompt: z.string(), text: z.string() })),
  rating: z.int().optional(),
  createdAt: Instant,
  cursor: z.string().describe("Pass as `after` to get the page after this entry."),
}).meta({ id: "JournalEntry" });

/** The answer of each action, keyed `Concept.action`. */
export const ACTION_RESPONSES: Readonly<Record<string, z.ZodType>> = {
  "UserAuth.register": UserId,
  "UserAuth.login": Login,
  "UserAuth.logout": z.object({}),
  "UserAuth._getUser": z.array(User),
  "Profile.setProfile": UserId,
  "Profile._getProfile": z.array(Profile),
  "JournalPrompt.addPrompt": PromptId,
  "JournalPrompt.updatePrompt": PromptId,
  "JournalPrompt.deletePrompt": PromptId,
  "JournalPrompt.reorderPrompts": z.object({ prompts: z.array(z.string()) }),
  "JournalPrompt._getPrompts": z.array(Prompt),
  "JournalPrompt._getActivePrompts": z.array(Prompt),
  "CallWindow.addRecurringWindow": WindowId,
  "CallWindow.addOneOffWindow": WindowId,
  "CallWindow.removeWindow": WindowId,
  "CallWindow._getWindows": z.array(Window),
  "CallWindow._getActiveWindow": z.array(ActiveWindow),
  "ReflectionSession.startSession": SessionId,
  "ReflectionSession.recordResponse": SessionId,
  "ReflectionSession.completeSession": z.object({ session: z.string(), entry: z.string() }),
  "ReflectionSession.abandonSession": SessionId,
  "ReflectionSession._getSession": z.array(Session),
  "ReflectionSession._getSessions": z.array(Session),
  "CallScheduler.scheduleCall": CallId,
  "CallScheduler.cancelCall": CallId,
  "CallScheduler._getActiveCallsForUser": z.array(Call),
  "CallScheduler._getScheduledCall": z.array(Call),
  "JournalEntry._getEntries": z.array(Entry),
  "JournalEntry._getEntryForDate": z.array(Entry),
  "JournalEntry._getEntry": z.array(Entry),
  "JournalEntry.deleteEntry": id("entry", "The deleted entry's id."),
};

/** The schema of `Concept.action`'s answer; throws for an action without one (a registry mistake). */
export function responseSchema(concept: string, action: string): z.ZodType {
  const schema = ACTION_RESPONSES[`${concept}.${action}`];
  if (!schema) throw new Error(`${concept}.${action} has no response schema in responses.ts`);
  return schema;
}
