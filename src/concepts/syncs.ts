/**
 * The flows that span concepts ("syncs"). Each is a plain function over the concepts, so the HTTP layer and
 * the workers (the telephony webhooks, the call-window worker) run exactly the same steps.
 *
 * @module
 */
import type { Concepts } from "./mod.ts";
import { ConceptError } from "./errors.ts";
import { type ActiveWindow, localMoment } from "./CallWindow/active_window.ts";
import type { SessionMode, SessionView } from "./ReflectionSession/reflection_session.ts";

/** Registers an account and gives it the default prompts. */
export async function registerUser(
  concepts: Concepts,
  input: { username: string; password: string },
): Promise<{ user: string }> {
  const { user } = await concepts.userAuth.register(input);
  await concepts.journalPrompt.addDefaultPrompts({ user });
  return { user };
}

/** Starts a reflection over the person's active prompts, as they are now. */
export async function startReflection(
  concepts: Concepts,
  input: { user: string; mode: SessionMode },
): Promise<{ session: string }> {
  const prompts = await concepts.journalPrompt._getActivePrompts({ user: input.user });
  return await concepts.reflectionSession.startSession({
    user: input.user,
    mode: input.mode,
    prompts: prompts.map((p) => ({ promptId: p._id, text: p.text })),
  });
}

/**
 * Completes a reflection and makes its journal entry, exactly once per session (the entry's unique index
 * decides). Completing a session twice is refused (`conflict`), but the refusal first makes sure the entry
 * exists, so a flow that died between the two steps is healed by being run again, e.g. by a redelivered
 * webhook.
 */
export async function completeReflection(
  concepts: Concepts,
  input: { user: string; session: string; rating?: number },
): Promise<{ session: string; entry: string }> {
  try {
    await concepts.reflectionSession.completeSession(input);
  } catch (err) {
    if (err instanceof ConceptError && err.kind === "conflict") {
      const [session] = await concepts.reflectionSession._getSession(input);
      if (session.status === "COMPLETED") await ensureEntry(concepts, session);
    }
    throw err;
  }
  const [session] = await concepts.reflectionSession._getSession(input);
  const { entry } = await ensureEntry(concepts, session);
  return { session: input.session, entry };
}

/** Makes the entry of a COMPLETED session unless it exists; dated by the local day the session started on. */
export async function ensureEntry(
  concepts: Concepts,
  session: SessionView,
): Promise<{ entry: string; created: boolean }> {
  const [profile] = await concepts.profile._getProfile({ user: session.user });
  const date = localMoment(session.startedAt, profile?.timezone ?? "UTC").date;
  return await concepts.journalEntry.createEntry({
    user: session.user,
    reflectionSession: session._id,
    date,
    mode: session.mode,
    responses: session.prompts.flatMap((p) =>
      p.response === undefined ? [] : [{ promptId: p.promptId, prompt: p.text, text: p.response }]
    ),
    rating: session.rating,
  });
}

/** Schedules the call for a phone reflection, to the number in the person's profile. */
export async function scheduleReflectionCall(
  concepts: Concepts,
  input: { user: string; reflectionSession: string; scheduledFor: string },
): Promise<{ call: string }> {
  const [session] = await concepts.reflectionSession._getSession({
    user: input.user,
    session: input.reflectionSession,
  });
  if (session.mode !== "phone") throw new ConceptError("invalid", "Only a phone reflection can be called.");
  if (session.status !== "IN_PROGRESS") {
    throw new ConceptError("conflict", "That reflection is over; start a new one to be called.");
  }
  const [profile] = await concepts.profile._getProfile({ user: input.user });
  if (!profile) {
    throw new ConceptError("invalid", "Set your phone number in your profile before scheduling a call.");
  }
  return await concepts.callScheduler.scheduleCall({ ...input, phoneNumber: profile.phoneNumber });
}

/** The person's window open at instant `at`, judged on the clock of their profile's time zone. */
export async function getActiveWindow(
  concepts: Concepts,
  input: { user: string; at: string },
): Promise<ActiveWindow[]> {
  const [profile] = await concepts.profile._getProfile({ user: input.user });
  if (!profile) throw new ConceptError("invalid", "Set your time zone in your profile first.");
  return await concepts.callWindow._getActiveWindow({ ...input, timezone: profile.timezone });
}
