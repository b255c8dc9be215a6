/**
 * The flows that span concepts ("syncs"). Each is a plain function over the concepts, so the HTTP layer and
 * the workers (the telephony webhooks, the call-window worker) run exactly the same steps.
 *
 * @module
 */
import type { Concepts } from "./concepts.ts";
import { ConceptError } from "./errors.ts";
import { type ActiveWindow, localMoment } from "./CallWindow/active_window.ts";
import type { OccurrenceCallResult } from "./CallScheduler/call_scheduler.ts";
import type { PromptSnapshot, SessionMode, SessionView } from "./ReflectionSession/reflection_session.ts";

/** Registers an account and gives it the default prompts. */
export async function registerUser(
  concepts: Concepts,
  input: { username: string; password: string },
): Promise<{ user: string }> {
  const { user } = await concepts.userAuth.register(input);
  await concepts.journalPrompt.addDefaultPrompts({ user });
  return { user };
}

/**
 * Starts a reflection over the person's active prompts, as they are now. `prompts`: those prompts, when the
 * caller read them already (the call-window tick reads everyone's at once with `activePromptsOf`); never
 * from HTTP, whose schema does not have it.
 */
export async function startReflection(
  concepts: Concepts,
  input: { user: string; mode: SessionMode; prompts?: readonly PromptSnapshot[] },
): Promise<{ session: string }> {
  const snapshot = input.prompts ??
    (await concepts.journalPrompt._getActivePrompts({ user: input.user })).map((p) => ({
      promptId: p._id,
      text: p.text,
    }));
  return await concepts.reflectionSession.startSession({
    user: input.user,
    mode: input.mode,
    prompts: snapshot,
  });
}

/** The bulk read of `startReflection`: the active prompts of each of `users` with any, in one query. */
export async function activePromptsOf(
  concepts: Concepts,
  users: readonly string[],
): Promise<Map<string, PromptSnapshot[]>> {
  const found = await concepts.journalPrompt._getActivePromptsOfUsers({ users });
  return new Map(found.map((p) => [p.user, p.prompts.map((q) => ({ promptId: q._id, text: q.text }))]));
}

/**
 * The phone reflection for one window occurrence (the call-window tick): `startReflection` over `prompts`,
 * then the occurrence's call to `phoneNumber`, as `scheduleReflectionCall` does for a call asked over HTTP.
 * When the call cannot be made (the person has an active call, or the occurrence has its call already), the
 * session is abandoned again and the conflict returned.
 */
export async function startOccurrenceReflection(
  concepts: Concepts,
  input: { user: string; phoneNumber: string; occurrence: string; scheduledFor: Date },
  prompts: readonly PromptSnapshot[],
): Promise<OccurrenceCallResult & { session: string }> {
  const { session } = await startReflection(concepts, { user: input.user, mode: "phone", prompts });
  const result = await concepts.callScheduler.scheduleOccurrenceCall({
    ...input,
    reflectionSession: session,
  });
  if ("conflict" in result) await concepts.reflectionSession.abandonSession({ user: input.user, session });
  return { ...result, session };
}

/**
 * Completes a reflection and makes its journal entry, exactly once per session (the entry's unique index
 * decides), however often and by whomever it runs. A session already COMPLETED still gets its entry made if
 * that is missing, so a flow that died between the two steps is healed by running it again, e.g. by a
 * redelivered webhook; `refusal` then says why completing it again was refused. An ABANDONED session is
 * refused (`conflict`). `loaded` is the session as the caller just read it, which saves reading it again.
 */
export async function completeReflectionOnce(
  concepts: Concepts,
  input: { user: string; session: string; rating?: number },
  loaded?: SessionView,
): Promise<{ session: SessionView; entry: string; created: boolean; refusal?: ConceptError }> {
  let session: SessionView;
  let refusal: ConceptError | undefined;
  try {
    await concepts.reflectionSession.completeSession(input);
    session = loaded === undefined
      ? (await concepts.reflectionSession._getSession(input))[0]
      : { ...loaded, status: "COMPLETED", ...(input.rating === undefined ? {} : { rating: input.rating }) };
  } catch (err) {
    if (!(err instanceof ConceptError && err.kind === "conflict")) throw err;
    [session] = await concepts.reflectionSession._getSession(input);
    if (session.status !== "COMPLETED") throw err;
    refusal = err;
  }
  const { entry, created } = await ensureEntry(concepts, session);
  return { session, entry, created, ...(refusal === undefined ? {} : { refusal }) };
}

/**
 * Completes a reflection and makes its journal entry (`completeReflectionOnce`). Completing a session twice
 * is refused (`conflict`), after the refusal made sure the entry exists.
 */
export async function completeReflection(
  concepts: Concepts,
  input: { user: string; session: string; rating?: number },
): Promise<{ session: string; entry: string }> {
  const { entry, refusal } = await completeReflectionOnce(concepts, input);
  if (refusal !== undefined) throw refusal;
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
