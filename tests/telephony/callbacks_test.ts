import assert from "node:assert/strict";
import {
  CALL_STATUSES,
  isProviderCallStatus,
  isStatusAdvance,
  isTerminalStatus,
  parseStatusCallback,
  parseTranscriptCallback,
  type ProviderCallStatus,
  publicRequestUrl,
  statusCallbackUrl,
  statusRank,
  TERMINAL_STATUSES,
  transcriptCallbackUrl,
  transcriptUrlBeside,
  voiceUrl,
} from "../../src/telephony/mod.ts";

Deno.test("statuses rank queued < initiated < ringing < in-progress < every terminal status", () => {
  const order: ProviderCallStatus[] = ["queued", "initiated", "ringing", "in-progress", "completed"];
  for (let i = 1; i < order.length; i++) assert.ok(statusRank(order[i - 1]) < statusRank(order[i]));
  for (const terminal of TERMINAL_STATUSES) {
    assert.equal(statusRank(terminal), statusRank("completed"));
    assert.equal(isTerminalStatus(terminal), true);
  }
  assert.equal(isTerminalStatus("in-progress"), false);
  assert.deepEqual(
    CALL_STATUSES.filter((status) => !isTerminalStatus(status)),
    ["queued", "initiated", "ringing", "in-progress"],
  );
});

Deno.test("a status never goes backwards and a terminal status is final", () => {
  assert.equal(isStatusAdvance(undefined, "ringing"), true);
  assert.equal(isStatusAdvance("ringing", "in-progress"), true);
  assert.equal(isStatusAdvance("ringing", "no-answer"), true);
  assert.equal(isStatusAdvance("in-progress", "completed"), true);
  assert.equal(isStatusAdvance("in-progress", "ringing"), false);
  assert.equal(isStatusAdvance("ringing", "ringing"), false);
  assert.equal(isStatusAdvance("completed", "completed"), false);
  assert.equal(isStatusAdvance("completed", "failed"), false);
  assert.equal(isStatusAdvance("no-answer", "in-progress"), false);
});

Deno.test("only Twilio's status values are statuses", () => {
  assert.equal(isProviderCallStatus("no-answer"), true);
  for (const value of ["NO_ANSWER", "answered", "toString", "", undefined, 3]) {
    assert.equal(isProviderCallStatus(value), false, String(value));
  }
});

Deno.test("callback URLs carry the call id in the query string, under the public base", () => {
  assert.equal(
    statusCallbackUrl("https://zien.example/", "c 1&x"),
    "https://zien.example/webhooks/telephony/status?callId=c+1%26x",
  );
  assert.equal(
    voiceUrl("https://zien.example", "c1"),
    "https://zien.example/webhooks/telephony/voice?callId=c1",
  );
  assert.equal(
    transcriptCallbackUrl("https://zien.example/app", "c1", "p1"),
    "https://zien.example/app/webhooks/telephony/transcript?callId=c1&promptId=p1",
  );
  assert.equal(
    transcriptUrlBeside(statusCallbackUrl("https://zien.example/app", "c1"), "p1"),
    transcriptCallbackUrl("https://zien.example/app", "c1", "p1"),
  );
});

Deno.test("the signed URL of a received request is rebuilt under the public base", () => {
  assert.equal(
    publicRequestUrl("https://zien.example/", "http://10.0.0.5:8000/webhooks/telephony/status?callId=c1"),
    "https://zien.example/webhooks/telephony/status?callId=c1",
  );
});

Deno.test("a status callback is read from the URL's call id and Twilio's form fields", () => {
  const url = new URL(statusCallbackUrl("https://zien.example", "call-1"));
  const form = new URLSearchParams({
    CallSid: "CA1",
    CallStatus: "completed",
    To: "+15550001111",
    From: "+15005550006",
    AccountSid: "AC1",
    CallDuration: "42",
    callId: "forged-in-body",
  });
  assert.deepEqual(parseStatusCallback(url, form), {
    callId: "call-1",
    providerCallId: "CA1",
    status: "completed",
    to: "+15550001111",
    from: "+15005550006",
    accountSid: "AC1",
    durationSeconds: 42,
  });
  const bare = new URL("https://zien.example/webhooks/telephony/status");
  assert.equal(
    parseStatusCallback(bare, new URLSearchParams({ CallSid: "CA1", CallStatus: "ringing" })),
    undefined,
  );
  assert.equal(parseStatusCallback(url, new URLSearchParams({ CallStatus: "ringing" })), undefined);
  assert.equal(
    parseStatusCallback(url, new URLSearchParams({ CallSid: "CA1", CallStatus: "answered" })),
    undefined,
  );
  assert.deepEqual(
    parseStatusCallback(bare, new URLSearchParams({ CallSid: "CA1", CallStatus: "ringing", callId: "c2" })),
    { callId: "c2", providerCallId: "CA1", status: "ringing" },
  );
});

Deno.test("a transcript callback carries the prompt id and the speech; silence is an empty answer", () => {
  const url = new URL(transcriptCallbackUrl("https://zien.example", "call-1", "p-2"));
  const form = new URLSearchParams({ CallSid: "CA1", SpeechResult: "I went running.", Confidence: "0.87" });
  assert.deepEqual(parseTranscriptCallback(url, form), {
    callId: "call-1",
    providerCallId: "CA1",
    promptId: "p-2",
    speech: "I went running.",
    confidence: 0.87,
  });
  assert.deepEqual(parseTranscriptCallback(url, new URLSearchParams({ CallSid: "CA1" })), {
    callId: "call-1",
    providerCallId: "CA1",
    promptId: "p-2",
    speech: "",
  });
  const noPrompt = new URL(statusCallbackUrl("https://zien.example", "call-1"));
  assert.equal(parseTranscriptCallback(noPrompt, form), undefined);
});
