/**
 * The telephony webhooks: signatures (403 and nothing changes), idempotent and out-of-order callbacks, the
 * TwiML of the voice and transcript routes, and the signed simulated flow end to end.
 */
import assert from "node:assert/strict";
import { scheduleDueCalls } from "../../src/calls/mod.ts";
import type { CallDoc } from "../../src/concepts/CallScheduler/mod.ts";
import { signTwilioRequest, TWILIO_SIGNATURE_HEADER } from "../../src/telephony/mod.ts";
import { type CallHarness, openCallHarness } from "../calls/harness.ts";
import { seedPerson, zoneInsideItsDay } from "../workers/seed.ts";
import { waitFor } from "../helpers/wait.ts";

const AUTH_TOKEN = "0123456789abcdef0123456789abcdef";
const SID = "CA" + "c".repeat(32);
const never = new AbortController().signal;

/** A call for a freshly seeded person, claimed and placed by hand as attempt 1 with provider id `SID`. */
async function placedCall(h: CallHarness): Promise<CallDoc> {
  const { timezone } = zoneInsideItsDay();
  await seedPerson(h.concepts, { timezone });
  await scheduleDueCalls(h.runtime.scheduling, never);
  const call = (await h.runtime.queue.claimDueCall({ owner: "zien-backend:test:1" }))!;
  await h.runtime.queue.recordPlacement({
    call: call._id,
    attempt: 1,
    owner: "zien-backend:test:1",
    providerCallId: SID,
  });
  return (await h.runtime.queue._getCall({ call: call._id }))!;
}

interface PostOptions {
  /** Sign with this token; none: unsigned. */
  token?: string;
  /** Sign over this URL instead of the one posted to. */
  signedUrl?: string;
  /** Sign these params instead of the ones sent. */
  signedParams?: Record<string, string>;
}

async function post(
  h: CallHarness,
  pathAndQuery: string,
  params: Record<string, string>,
  options: PostOptions = { token: AUTH_TOKEN },
): Promise<Response> {
  const url = h.baseUrl + pathAndQuery;
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (options.token !== undefined) {
    headers[TWILIO_SIGNATURE_HEADER] = await signTwilioRequest({
      authToken: options.token,
      url: options.signedUrl ?? url,
      params: new URLSearchParams(options.signedParams ?? params),
    });
  }
  return await fetch(url, { method: "POST", headers, body: new URLSearchParams(params) });
}

const status = (call: string, callStatus: string, attempt = 1) =>
  [`/webhooks/telephony/status?callId=${call}&attempt=${attempt}`, {
    CallSid: SID,
    CallStatus: callStatus,
  }] as const;

const transcript = (call: string, promptId: string, speech: string, attempt = 1) =>
  [
    `/webhooks/telephony/transcript?callId=${call}&promptId=${promptId}&attempt=${attempt}`,
    { CallSid: SID, CallStatus: "in-progress", SpeechResult: speech, Confidence: "0.9" },
  ] as const;

async function snapshot(h: CallHarness, call: CallDoc) {
  const [session] = await h.concepts.reflectionSession._getSession({
    user: call.user,
    session: call.reflectionSession,
  });
  return { call: await h.runtime.queue._getCall({ call: call._id }), session };
}

Deno.test("unsigned or forged callbacks get 403 and change nothing", async () => {
  const h = await openCallHarness({ env: { TWILIO_AUTH_TOKEN: AUTH_TOKEN } });
  try {
    const call = await placedCall(h);
    const [prompt] = (await snapshot(h, call)).session.prompts;
    const before = await snapshot(h, call);
    const attempts: [string, Record<string, string>, PostOptions][] = [
      [...status(call._id, "completed"), {}],
      [...status(call._id, "no-answer"), { token: "f".repeat(32) }],
      [...status(call._id, "busy"), {
        token: AUTH_TOKEN,
        signedParams: { CallSid: SID, CallStatus: "ringing" },
      }],
      [...transcript(call._id, prompt.promptId, "forged words"), {
        token: AUTH_TOKEN,
        signedUrl: `${h.baseUrl}/webhooks/telephony/transcript?callId=${call._id}`,
      }],
    ];
    for (const [path, params, options] of attempts) {
      const response = await post(h, path, params, options);
      assert.equal(response.status, 403, `${path} ${JSON.stringify(options)}`);
      await response.body?.cancel();
    }
    assert.deepEqual(await snapshot(h, call), before);
    assert.deepEqual(h.events.filter((e) => e.type !== "scheduled"), []);
  } finally {
    await h.close();
  }
});

Deno.test("with twilio, the signature is checked over PUBLIC_BASE_URL, not the address the request reached", async () => {
  const publicBaseUrl = "https://zien.example";
  const h = await openCallHarness({
    env: {
      TELEPHONY_PROVIDER: "twilio",
      TWILIO_ACCOUNT_SID: "AC" + "a".repeat(32),
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM_NUMBER: "+15005550006",
      PUBLIC_BASE_URL: publicBaseUrl,
    },
  });
  try {
    const call = await placedCall(h);
    const [path, params] = status(call._id, "ringing");
    const local = await post(h, path, params);
    assert.equal(local.status, 403, "signed over the local URL, which Twilio never saw");
    await local.body?.cancel();
    assert.equal((await h.runtime.queue._getCall({ call: call._id }))!.providerStatus, null);
    const signed = await post(h, path, params, { token: AUTH_TOKEN, signedUrl: publicBaseUrl + path });
    assert.equal(signed.status, 204);
    assert.equal((await h.runtime.queue._getCall({ call: call._id }))!.providerStatus, "ringing");
  } finally {
    await h.close();
  }
});

Deno.test("repeated and out-of-order callbacks: statuses never go back, one entry, stale attempts ignored", async () => {
  const h = await openCallHarness({ env: { TWILIO_AUTH_TOKEN: AUTH_TOKEN } });
  try {
    const call = await placedCall(h);
    const send = async (args: readonly [string, Record<string, string>]) => {
      const response = await post(h, ...args);
      const body = await response.text();
      return { status: response.status, body };
    };
    assert.equal((await send(status(call._id, "in-progress"))).status, 204);
    assert.equal((await send(status(call._id, "ringing"))).status, 204);
    assert.equal((await h.runtime.queue._getCall({ call: call._id }))!.providerStatus, "in-progress");
    const { session } = await snapshot(h, call);
    const [first, second] = session.prompts;
    const afterFirst = await send(transcript(call._id, first.promptId, "I went for a swim"));
    assert.equal(afterFirst.status, 200);
    assert.match(afterFirst.body, /<Gather input="speech"/);
    assert.ok(afterFirst.body.includes(second.text), afterFirst.body);
    assert.ok(afterFirst.body.includes(`promptId=${second.promptId}&#38;attempt=1`), afterFirst.body);
    const afterLast = await send(transcript(call._id, second.promptId, "Tomorrow, the dentist"));
    assert.match(afterLast.body, /<Hangup\/>/);
    // A callback from an earlier attempt changes nothing.
    assert.equal((await send(status(call._id, "no-answer", 7))).status, 204);
    // The completed callback delivered three times at once: one completion, one entry.
    const results = await Promise.all([1, 2, 3].map(() => send(status(call._id, "completed"))));
    assert.deepEqual(results.map((r) => r.status), [204, 204, 204]);
    assert.equal((await send(status(call._id, "no-answer"))).status, 204, "after completed");
    const after = await snapshot(h, call);
    assert.equal(after.call!.status, "COMPLETED");
    assert.equal(after.call!.attempts, 1);
    assert.equal(after.session.status, "COMPLETED");
    const entries = await h.concepts.journalEntry._getEntries({ user: call.user, limit: 10 });
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0].responses.map((r) => r.text), ["I went for a swim", "Tomorrow, the dentist"]);
    const types = h.events.map((e) => e.type);
    assert.deepEqual(types.filter((t) => t === "completed" || t === "entry_created"), [
      "completed",
      "entry_created",
    ]);
    assert.equal(types.filter((t) => t === "answered").length, 1);
  } finally {
    await h.close();
  }
});

Deno.test("the voice route asks the first prompt; malformed callbacks are 400, other bodies 415", async () => {
  const h = await openCallHarness({ env: { TWILIO_AUTH_TOKEN: AUTH_TOKEN } });
  try {
    const call = await placedCall(h);
    const { session } = await snapshot(h, call);
    const voice = await post(h, `/webhooks/telephony/voice?callId=${call._id}&attempt=1`, { CallSid: SID });
    assert.equal(voice.status, 200);
    assert.match(voice.headers.get("content-type") ?? "", /^text\/xml/);
    const twiml = await voice.text();
    assert.ok(twiml.includes(session.prompts[0].text), twiml);
    assert.ok(twiml.includes(`promptId=${session.prompts[0].promptId}`), twiml);
    const stale = await post(h, `/webhooks/telephony/voice?callId=${call._id}&attempt=2`, { CallSid: SID });
    assert.match(await stale.text(), /<Hangup\/>/);
    const missing = await post(h, `/webhooks/telephony/status?callId=${call._id}`, { CallStatus: "ringing" });
    assert.equal(missing.status, 400);
    await missing.body?.cancel();
    const json = await fetch(`${h.baseUrl}/webhooks/telephony/status`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(json.status, 415);
    await json.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("signed simulated callbacks pass verification: the flow runs end to end with a token set", async () => {
  const h = await openCallHarness({ env: { TWILIO_AUTH_TOKEN: AUTH_TOKEN } });
  try {
    const { timezone } = zoneInsideItsDay();
    const user = await seedPerson(h.concepts, { timezone });
    h.start();
    await waitFor(async () => (await h.concepts.journalEntry._getEntries({ user, limit: 1 })).length === 1, {
      what: "the entry",
    });
  } finally {
    await h.close();
  }
});
