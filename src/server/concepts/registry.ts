/**
 * The registry: every concept action and query the API exposes, with its input schema and whether it
 * belongs to a person. This list is the whole API surface; nothing is exposed by walking the file system.
 *
 * @module
 */
import type { z } from "zod";
import {
  completeReflection,
  type Concepts,
  getActiveWindow,
  registerUser,
  scheduleReflectionCall,
  startReflection,
} from "../../concepts/mod.ts";
import * as UserAuth from "../../concepts/UserAuth/mod.ts";
import * as Profile from "../../concepts/Profile/mod.ts";
import * as JournalPrompt from "../../concepts/JournalPrompt/mod.ts";
import * as CallWindow from "../../concepts/CallWindow/mod.ts";
import * as ReflectionSession from "../../concepts/ReflectionSession/mod.ts";
import * as CallScheduler from "../../concepts/CallScheduler/mod.ts";
import * as JournalEntry from "../../concepts/JournalEntry/mod.ts";

/** Who is calling, as the bearer token says. */
export interface Caller {
  user: string;
  /** The token itself, for `logout`. */
  token: string;
}

/** One exposed action or query: `POST /api/{concept}/{action}`. */
export interface ActionSpec {
  concept: string;
  action: string;
  /** One line for the API document. */
  summary: string;
  /** The body's schema; always a strict object, so unknown fields (`user` among them) are refused. */
  input: z.ZodObject;
  /** Whether the action needs `Authorization: Bearer <token>`; its `user` then comes from the token. */
  auth: boolean;
  /**
   * Runs the action with validated input; `caller` is set exactly when `auth` is. `from` is the client's
   * address, for the login throttle.
   */
  run(concepts: Concepts, input: unknown, caller: Caller | undefined, from: string): Promise<unknown>;
}

function open<S extends z.ZodObject>(
  concept: string,
  action: string,
  summary: string,
  input: S,
  run: (concepts: Concepts, input: z.output<S>, from: string) => Promise<unknown>,
): ActionSpec {
  return {
    concept,
    action,
    summary,
    input,
    auth: false,
    run: (concepts, i, _caller, from) => run(concepts, i as z.output<S>, from),
  };
}

function mine<S extends z.ZodObject>(
  concept: string,
  action: string,
  summary: string,
  input: S,
  run: (concepts: Concepts, input: z.output<S> & { user: string }, caller: Caller) => Promise<unknown>,
): ActionSpec {
  return {
    concept,
    action,
    summary,
    input,
    auth: true,
    run: (concepts, i, caller) => run(concepts, { ...(i as z.output<S>), user: caller!.user }, caller!),
  };
}

/** Every action and query the API serves, in the order the API document lists them. */
export const ACTIONS: readonly ActionSpec[] = [
  open(
    "UserAuth",
    "register",
    "Create an account (it starts with two default prompts).",
    UserAuth.RegisterInput,
    registerUser,
  ),
  open(
    "UserAuth",
    "login",
    "Exchange a username and password for a 30-day bearer token.",
    UserAuth.LoginInput,
    (concepts, i, from) => concepts.userAuth.login(i, { from }),
  ),
  mine(
    "UserAuth",
    "logout",
    "Revoke the token this request carries.",
    UserAuth.LogoutInput,
    (concepts, _i, caller) => concepts.userAuth.logout({ token: caller.token }),
  ),
  mine(
    "UserAuth",
    "_getUser",
    "Who the token belongs to.",
    UserAuth.GetUserInput,
    (concepts, i) => concepts.userAuth._getUser(i),
  ),

  mine(
    "Profile",
    "setProfile",
    "Create or replace your profile.",
    Profile.SetProfileInput,
    (concepts, i) => concepts.profile.setProfile(i),
  ),
  mine(
    "Profile",
    "_getProfile",
    "Your profile, or [] before you set one.",
    Profile.GetProfileInput,
    (concepts, i) => concepts.profile._getProfile(i),
  ),

  mine(
    "JournalPrompt",
    "addPrompt",
    "Add an active prompt at the end.",
    JournalPrompt.AddPromptInput,
    (concepts, i) => concepts.journalPrompt.addPrompt(i),
  ),
  mine(
    "JournalPrompt",
    "updatePrompt",
    "Reword a prompt or switch it on or off.",
    JournalPrompt.UpdatePromptInput,
    (concepts, i) => concepts.journalPrompt.updatePrompt(i),
  ),
  mine(
    "JournalPrompt",
    "deletePrompt",
    "Delete a prompt.",
    JournalPrompt.DeletePromptInput,
    (concepts, i) => concepts.journalPrompt.deletePrompt(i),
  ),
  mine(
    "JournalPrompt",
    "reorderPrompts",
    "Put all your prompts in a new order.",
    JournalPrompt.ReorderPromptsInput,
    (concepts, i) => concepts.journalPrompt.reorderPrompts(i),
  ),
  mine(
    "JournalPrompt",
    "_getPrompts",
    "All your prompts, in order.",
    JournalPrompt.GetPromptsInput,
    (concepts, i) => concepts.journalPrompt._getPrompts(i),
  ),
  mine(
    "JournalPrompt",
    "_getActivePrompts",
    "Your active prompts, in order.",
    JournalPrompt.GetPromptsInput,
    (concepts, i) => concepts.journalPrompt._getActivePrompts(i),
  ),

  mine(
    "CallWindow",
    "addRecurringWindow",
    "Add a weekly call window.",
    CallWindow.AddRecurringWindowInput,
    (concepts, i) => concepts.callWindow.addRecurringWindow(i),
  ),
  mine(
    "CallWindow",
    "addOneOffWindow",
    "Add a call window on one date; it replaces that day's weekly windows.",
    CallWindow.AddOneOffWindowInput,
    (concepts, i) => concepts.callWindow.addOneOffWindow(i),
  ),
  mine(
    "CallWindow",
    "removeWindow",
    "Remove a call window.",
    CallWindow.RemoveWindowInput,
    (concepts, i) => concepts.callWindow.removeWindow(i),
  ),
  mine(
    "CallWindow",
    "_getWindows",
    "All your call windows.",
    CallWindow.GetWindowsInput,
    (concepts, i) => concepts.callWindow._getWindows(i),
  ),
  mine(
    "CallWindow",
    "_getActiveWindow",
    "The window open at an instant, in your profile's time zone.",
    CallWindow.GetActiveWindowInput,
    getActiveWindow,
  ),

  mine(
    "ReflectionSession",
    "startSession",
    "Start a reflection over your active prompts.",
    ReflectionSession.StartSessionInput,
    startReflection,
  ),
  mine(
    "ReflectionSession",
    "recordResponse",
    "Answer one prompt of a session.",
    ReflectionSession.RecordResponseInput,
    (concepts, i) => concepts.reflectionSession.recordResponse(i),
  ),
  mine(
    "ReflectionSession",
    "completeSession",
    "Complete a session; its journal entry is made once.",
    ReflectionSession.CompleteSessionInput,
    completeReflection,
  ),
  mine(
    "ReflectionSession",
    "abandonSession",
    "Abandon a session in progress.",
    ReflectionSession.AbandonSessionInput,
    (concepts, i) => concepts.reflectionSession.abandonSession(i),
  ),
  mine(
    "ReflectionSession",
    "_getSession",
    "One of your sessions.",
    ReflectionSession.GetSessionInput,
    (concepts, i) => concepts.reflectionSession._getSession(i),
  ),
  mine(
    "ReflectionSession",
    "_getSessions",
    "Your sessions, newest first.",
    ReflectionSession.GetSessionsInput,
    (concepts, i) => concepts.reflectionSession._getSessions(i),
  ),

  mine(
    "CallScheduler",
    "scheduleCall",
    "Schedule the call for a phone reflection, to your profile's number.",
    CallScheduler.ScheduleCallInput,
    scheduleReflectionCall,
  ),
  mine(
    "CallScheduler",
    "cancelCall",
    "Cancel a call that is still pending.",
    CallScheduler.CancelCallInput,
    (concepts, i) => concepts.callScheduler.cancelCall(i),
  ),
  mine(
    "CallScheduler",
    "_getActiveCallsForUser",
    "Your pending or in-progress call, if any.",
    CallScheduler.GetActiveCallsInput,
    (concepts, i) => concepts.callScheduler._getActiveCallsForUser(i),
  ),
  mine(
    "CallScheduler",
    "_getScheduledCall",
    "One of your calls.",
    CallScheduler.GetScheduledCallInput,
    (concepts, i) => concepts.callScheduler._getScheduledCall(i),
  ),

  mine(
    "JournalEntry",
    "_getEntries",
    "Your entries, newest first, a page at a time.",
    JournalEntry.GetEntriesInput,
    (concepts, i) => concepts.journalEntry._getEntries(i),
  ),
  mine(
    "JournalEntry",
    "_getEntryForDate",
    "Your entries of one local date.",
    JournalEntry.GetEntryForDateInput,
    (concepts, i) => concepts.journalEntry._getEntryForDate(i),
  ),
  mine(
    "JournalEntry",
    "_getEntry",
    "One of your entries.",
    JournalEntry.GetEntryInput,
    (concepts, i) => concepts.journalEntry._getEntry(i),
  ),
  mine(
    "JournalEntry",
    "deleteEntry",
    "Delete one of your entries.",
    JournalEntry.DeleteEntryInput,
    (concepts, i) => concepts.journalEntry.deleteEntry(i),
  ),
];

const byConcept = new Map<string, Map<string, ActionSpec>>();
for (const spec of ACTIONS) {
  const actions = byConcept.get(spec.concept) ?? new Map<string, ActionSpec>();
  if (actions.has(spec.action)) throw new Error(`${spec.concept}.${spec.action} is registered twice`);
  byConcept.set(spec.concept, actions.set(spec.action, spec));
}

/** The registered action, `"no_concept"` when the concept is unknown, or `"no_action"` when only the action is. */
export function lookupAction(concept: string, action: string): ActionSpec | "no_concept" | "no_action" {
  const actions = byConcept.get(concept);
  if (!actions) return "no_concept";
  return actions.get(action) ?? "no_action";
}

/** A concept action that succeeded, for whoever keeps derived state (caches) in step. */
export interface ActionDone {
  concept: string;
  action: string;
  /** The person it was done for, when the action needs one. */
  user?: string;
}
