import assert from "node:assert/strict";
import {
  parseStatusCallback,
  parseTranscriptCallback,
  statusCallbackUrl,
  TERMINAL_STATUSES,
} from "../../src/telephony/mod.ts";
import { PlacementError } from "../../src/telephony/provider.ts";
import { TWILIO_SIGNATURE_HEADER, verifyTwilioSignature } from "../../src/telephony/signature.ts";
import { SimulatedProvider, type SimulatedProviderOptions } from "../../src/telephony/simulated.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  gate,
  type RecordedRequest,
  type Recorder,
  type Reply,
  startRecorder,
  strictTest,
} from "./recorder.ts";

const prompts = [
  { promptId: "p1", text: "What went well today?" },
  { promptId: "p2", text: "What will you do tomorrow?" },
];

/** A receiver and a simulated provider posting to it; both closed by `close()`. */
function setup(options: Partial<SimulatedProviderOptions> = {}, reply?: Reply) {
  const receiver = startRecorder(reply);
  const sim = new SimulatedProvider({ ringMs: 5, ...options });
  const place = (callId = "call-1", to = "+15550001111") =>
    sim.placeCall({ to, callId, statusCallbackUrl: statusCallbackUrl(receiver.origin, callId), prompts });
  const close = async () => {
    await sim.close();
    await receiver.close();
  };
  return { receiver, sim, place, close };
}

function isTerminal(request: RecordedRequest): boolean {
  const status = request.form.get("CallStatus");
  return request.path.endsWith("/status") && TERMINAL_STATUSES.some((terminal) => terminal === status);
}

/** The callbacks of one call, once its terminal status arrived, as `status:<s>` / `transcript:<prompt>`. */
async function callbacksOf(receiver: Recorder, callId: string): Promise<string[]> {
  const ofCall = () => receiver.requests.filter((request) => request.query.get("callId") === callId);
  await waitFor(() => ofCall().some(isTerminal), { what: `a terminal status for ${callId}` });
  return ofCall().map((request) =>
    request.path.endsWith("/transcript")
      ? `transcript:${request.query.get("promptId")}`
      : `status:${request.form.get("CallStatus")}`
  );
}

strictTest("the simulation tells the state of its own calls, and knows nothing of others'", async () => {
  const { receiver, sim, place, close } = setup({ ringMs: 1_000 });
  try {
    const { providerCallId } = await place("call-state");
    await waitFor(() => receiver.requests.some((r) => r.form.get("CallStatus") === "ringing"), {
      what: "the ringing callback",
    });
    assert.equal(await sim.callStatus(providerCallId), "ringing");
    await callbacksOf(receiver, "call-state");
    assert.equal(await sim.callStatus(providerCallId), "completed");
    assert.equal(await sim.callStatus("CA" + "0".repeat(32)), "unknown");
    assert.ok(sim.ringTimeoutMs > 1_000, "it may ring its ringMs, and a margin");
  } finally {
    await close();
  }
});

strictTest(
  "an answered call posts ringing, in-progress, one transcript per prompt, then completed",
  async () => {
    const { receiver, place, close } = setup();
    try {
      const { providerCallId } = await place("call-1");
      assert.match(providerCallId, /^CA[0-9a-f]{32}$/);
      assert.deepEqual(await callbacksOf(receiver, "call-1"), [
        "status:initiated",
        "status:ringing",
        "status:in-progress",
        "transcript:p1",
        "transcript:p2",
        "status:completed",
      ]);
      for (const request of receiver.requests) {
        assert.equal(request.method, "POST");
        assert.equal(request.headers.get("content-type"), "application/x-www-form-urlencoded");
        assert.equal(request.headers.get(TWILIO_SIGNATURE_HEADER), null);
      }
      const statuses = receiver.requests.filter((request) => request.path === "/webhooks/telephony/status");
      const parsed = statuses.map((request) => parseStatusCallback(new URL(request.url), request.form));
      assert.ok(
        parsed.every((callback) =>
          callback?.callId === "call-1" && callback.providerCallId === providerCallId
        ),
      );
      assert.deepEqual(statuses.map((request) => request.form.get("SequenceNumber")), ["0", "1", "2", "3"]);
      assert.equal(parsed.at(-1)?.to, "+15550001111");
      assert.ok((parsed.at(-1)?.durationSeconds ?? 0) >= 1);

      const transcripts = receiver.requests
        .filter((request) => request.path === "/webhooks/telephony/transcript")
        .map((request) => parseTranscriptCallback(new URL(request.url), request.form));
      assert.deepEqual(transcripts, [
        {
          callId: "call-1",
          providerCallId,
          promptId: "p1",
          speech: "Simulated answer to: What went well today?",
          confidence: 0.92,
        },
        {
          callId: "call-1",
          providerCallId,
          promptId: "p2",
          speech: "Simulated answer to: What will you do tomorrow?",
          confidence: 0.92,
        },
      ]);
    } finally {
      await close();
    }
  },
);

strictTest("no-answer, busy and failed end with their own terminal status and no transcript", async () => {
  const expected = {
    "no-answer": ["status:initiated", "status:ringing", "status:no-answer"],
    "busy": ["status:initiated", "status:busy"],
    "failed": ["status:initiated", "status:failed"],
  };
  for (const [outcome, callbacks] of Object.entries(expected)) {
    const { receiver, place, close } = setup({ outcome: outcome as keyof typeof expected });
    try {
      await place(`call-${outcome}`);
      assert.deepEqual(await callbacksOf(receiver, `call-${outcome}`), callbacks, outcome);
      assert.equal(receiver.requests.at(-1)?.form.get("CallDuration"), "0");
    } finally {
      await close();
    }
  }
});

strictTest("a sequence of outcomes is consumed one per placement, its last one repeating", async () => {
  const { receiver, place, close } = setup({ outcome: ["no-answer", "busy", "answer"] });
  try {
    const terminals: (string | undefined)[] = [];
    for (let placement = 1; placement <= 4; placement++) {
      await place(`call-${placement}`);
      terminals.push((await callbacksOf(receiver, `call-${placement}`)).at(-1));
    }
    assert.deepEqual(terminals, ["status:no-answer", "status:busy", "status:completed", "status:completed"]);
  } finally {
    await close();
  }
});

strictTest("an outcome function sees the number and the attempt for that call id", async () => {
  const seen: [string, number][] = [];
  const { receiver, place, close } = setup({
    outcome: (to, attempt) => {
      seen.push([to, attempt]);
      return attempt < 3 ? "no-answer" : "answer";
    },
  });
  try {
    const sids = new Set<string>();
    for (let attempt = 1; attempt <= 3; attempt++) {
      sids.add((await place("call-a", "+15550002222")).providerCallId);
      await waitFor(() => receiver.requests.filter(isTerminal).length === attempt, {
        what: `attempt ${attempt}`,
      });
    }
    await place("call-b", "+15550003333");
    await callbacksOf(receiver, "call-b");
    assert.deepEqual(seen, [["+15550002222", 1], ["+15550002222", 2], ["+15550002222", 3], [
      "+15550003333",
      1,
    ]]);
    assert.equal(sids.size, 3, "every placement is a new provider call");
    assert.deepEqual(
      receiver.requests.filter(isTerminal).map((request) => request.form.get("CallStatus")),
      ["no-answer", "no-answer", "completed", "no-answer"],
    );
  } finally {
    await close();
  }
});

strictTest("placement failures throw at once and post nothing", async () => {
  const { receiver, sim, place, close } = setup({ outcome: ["placement-error", "placement-rejected"] });
  try {
    await assert.rejects(place("call-1"), (error) => error instanceof PlacementError && error.retryable);
    await assert.rejects(
      place("call-2"),
      (error) => error instanceof PlacementError && !error.retryable && error.providerCode === 21211,
    );
    await assert.rejects(
      sim.placeCall({
        to: "555-0100",
        callId: "call-3",
        statusCallbackUrl: statusCallbackUrl(receiver.origin, "c"),
      }),
      (error) => error instanceof PlacementError && !error.retryable && error.status === 400,
    );
    await assert.rejects(
      sim.placeCall({ to: "+15550001111", callId: "call-4", statusCallbackUrl: "not a url" }),
      (error) => error instanceof PlacementError && error.providerCode === 21609,
    );
    assert.equal(sim.activeCalls, 0);
    assert.equal(receiver.requests.length, 0);
  } finally {
    await close();
  }
});

strictTest(
  "with an auth token every post is signed as Twilio signs, and the signature verifies",
  async () => {
    const authToken = "sim-token-0123456789";
    const { receiver, place, close } = setup({ authToken, accountSid: "AC" + "1".repeat(32) });
    try {
      await place("call-signed");
      await callbacksOf(receiver, "call-signed");
      assert.equal(receiver.requests.length, 6);
      for (const request of receiver.requests) {
        const signature = request.headers.get(TWILIO_SIGNATURE_HEADER);
        assert.ok(signature, `${request.path} is signed`);
        const input = { authToken, url: request.url, params: request.form, signature };
        assert.equal(await verifyTwilioSignature(input), true, request.url);
        assert.equal(await verifyTwilioSignature({ ...input, authToken: "other-token" }), false);
        const tampered = new URLSearchParams(request.form);
        tampered.set("CallStatus", "completed");
        tampered.set("SpeechResult", "forged");
        assert.equal(await verifyTwilioSignature({ ...input, params: tampered }), false);
        assert.equal(request.form.get("AccountSid"), "AC" + "1".repeat(32));
      }
    } finally {
      await close();
    }
  },
);

strictTest("a receiver error does not stop the call: later callbacks still come", async () => {
  const { receiver, place, close } = setup(
    {},
    (request) => new Response("nope", { status: request.path.endsWith("/transcript") ? 500 : 200 }),
  );
  try {
    await place("call-1");
    assert.deepEqual((await callbacksOf(receiver, "call-1")).at(-1), "status:completed");
    assert.equal(receiver.requests.length, 6);
  } finally {
    await close();
  }
});

strictTest("close() cancels a ringing call: nothing more is posted, no timer is left", async () => {
  // Counts posts whose answer the simulator has fully received; a body-less answer leaves it nothing
  // asynchronous to do before it starts ringing, so once two are counted its ring timer is running.
  let answered = 0;
  const countingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    await response.body?.cancel();
    answered++;
    return new Response(null, { status: response.status });
  };
  const { receiver, sim, place, close } = setup({ ringMs: 60_000, fetch: countingFetch });
  try {
    await place("call-1");
    await waitFor(() => answered === 2, { what: "initiated and ringing to be answered" });
    assert.equal(sim.activeCalls, 1);
    await sim.close();
    assert.equal(sim.activeCalls, 0);
    assert.deepEqual(receiver.requests.map((request) => request.form.get("CallStatus")), [
      "initiated",
      "ringing",
    ]);
    await assert.rejects(
      place("call-2"),
      (error) => error instanceof PlacementError && error.failure === "closed" && error.retryable,
    );
  } finally {
    await close();
  }
});

strictTest("close() waits for a post in flight before it resolves", async () => {
  const held = gate();
  const { receiver, sim, place, close } = setup({ ringMs: 60_000 }, async (request) => {
    if (request.form.get("CallStatus") === "ringing") await held.promise;
    return new Response("<Response/>");
  });
  try {
    await place("call-1");
    await waitFor(() => receiver.requests.length === 2, { what: "the ringing post to arrive" });
    const closing = sim.close();
    const early = await Promise.race([
      closing.then(() => "closed"),
      new Promise((resolve) => setTimeout(() => resolve("pending"), 0)),
    ]);
    assert.equal(early, "pending");
    held.open();
    await closing;
    assert.equal(sim.activeCalls, 0);
    assert.equal(receiver.requests.length, 2);
  } finally {
    held.open();
    await close();
  }
});

strictTest("calls are simulated independently and concurrently", async () => {
  const { receiver, place, close } = setup({ outcome: (to) => to.endsWith("9") ? "busy" : "answer" });
  try {
    const callIds = Array.from({ length: 20 }, (_, i) => `call-${i}`);
    await Promise.all(callIds.map((callId, i) => place(callId, `+1555000000${i % 10}`)));
    for (const [i, callId] of callIds.entries()) {
      const last = (await callbacksOf(receiver, callId)).at(-1);
      assert.equal(last, i % 10 === 9 ? "status:busy" : "status:completed", callId);
    }
  } finally {
    await close();
  }
});
