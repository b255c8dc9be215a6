import assert from "node:assert/strict";
import { statusCallbackUrl, voiceUrl } from "../../src/telephony/mod.ts";
import { PlacementError } from "../../src/telephony/provider.ts";
import { TwilioProvider, type TwilioProviderOptions } from "../../src/telephony/twilio.ts";
import { waitFor } from "../helpers/wait.ts";
import { gate, type Reply, startRecorder, strictTest } from "./recorder.ts";

const accountSid = "AC" + "a".repeat(32);
const authToken = "s3cr3t-auth-token-0123456789abcd";
const publicBaseUrl = "https://zien.example";
const sid = "CA" + "b".repeat(32);

function provider(apiBase: string, options: Partial<TwilioProviderOptions> = {}) {
  return new TwilioProvider({
    accountSid,
    authToken,
    fromNumber: "+15005550006",
    publicBaseUrl,
    apiBase,
    ...options,
  });
}

const request = (callId = "call-1") => ({
  to: "+15550001111",
  callId,
  statusCallbackUrl: statusCallbackUrl(publicBaseUrl, callId),
});

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

async function placementError(promise: Promise<unknown>): Promise<PlacementError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlacementError, String(error));
    return error;
  }
  assert.fail("expected a PlacementError");
}

strictTest("a call is created with the Calls resource's method, path, auth and form fields", async () => {
  const twilioApi = startRecorder(json(201, { sid, status: "queued" }));
  const twilio = provider(twilioApi.origin);
  try {
    const result = await twilio.placeCall(request("call-1"));
    assert.deepEqual(result, { providerCallId: sid });

    assert.equal(twilioApi.requests.length, 1);
    const [sent] = twilioApi.requests;
    assert.equal(sent.method, "POST");
    assert.equal(sent.path, `/2010-04-01/Accounts/${accountSid}/Calls.json`);
    assert.equal(sent.headers.get("content-type"), "application/x-www-form-urlencoded");
    assert.equal(sent.headers.get("authorization"), `Basic ${btoa(`${accountSid}:${authToken}`)}`);
    assert.equal(sent.form.get("To"), "+15550001111");
    assert.equal(sent.form.get("From"), "+15005550006");
    assert.equal(sent.form.get("Url"), voiceUrl(publicBaseUrl, "call-1"));
    assert.equal(sent.form.get("Url"), "https://zien.example/webhooks/telephony/voice?callId=call-1");
    assert.equal(
      sent.form.get("StatusCallback"),
      "https://zien.example/webhooks/telephony/status?callId=call-1",
    );
    assert.equal(sent.form.get("StatusCallbackMethod"), "POST");
    assert.deepEqual(sent.form.getAll("StatusCallbackEvent"), [
      "initiated",
      "ringing",
      "answered",
      "completed",
    ]);
  } finally {
    await twilio.close();
    await twilioApi.close();
  }
});

strictTest("a voice URL given with the request is used as it is", async () => {
  const twilioApi = startRecorder(json(201, { sid }));
  const twilio = provider(twilioApi.origin + "/");
  try {
    await twilio.placeCall({ ...request(), voiceUrl: "https://zien.example/other?callId=call-1" });
    assert.equal(twilioApi.requests[0].form.get("Url"), "https://zien.example/other?callId=call-1");
    assert.equal(twilioApi.requests[0].path, `/2010-04-01/Accounts/${accountSid}/Calls.json`);
  } finally {
    await twilio.close();
    await twilioApi.close();
  }
});

strictTest("4xx is final, 429 and 5xx may be retried", async () => {
  const cases: [number, boolean, Record<string, string>][] = [
    [400, false, {}],
    [401, false, {}],
    [404, false, {}],
    [429, true, { "retry-after": "2" }],
    [500, true, {}],
    [503, true, {}],
  ];
  for (const [status, retryable, headers] of cases) {
    const body = {
      code: 21211,
      message: "The 'To' number +15550001111 is not a valid phone number.",
      status,
    };
    const twilioApi = startRecorder(json(status, body, headers));
    const twilio = provider(twilioApi.origin);
    try {
      const error = await placementError(twilio.placeCall(request()));
      assert.equal(error.retryable, retryable, `HTTP ${status}`);
      assert.equal(error.status, status);
      assert.equal(error.failure, "rejected");
      assert.equal(error.providerCode, 21211);
      assert.match(error.message, new RegExp(`HTTP ${status} \\(21211\\): The 'To' number`));
      if (status === 429) assert.equal(error.retryAfterMs, 2000);
    } finally {
      await twilio.close();
      await twilioApi.close();
    }
  }
});

strictTest("an error body that is not JSON still maps by status", async () => {
  const twilioApi = startRecorder(() => new Response("<html>Bad Gateway</html>", { status: 502 }));
  const twilio = provider(twilioApi.origin);
  try {
    const error = await placementError(twilio.placeCall(request()));
    assert.equal(error.retryable, true);
    assert.equal(error.status, 502);
  } finally {
    await twilio.close();
    await twilioApi.close();
  }
});

strictTest("a 2xx without a call sid is not retried: the call may exist", async () => {
  const twilioApi = startRecorder(json(201, { status: "queued" }));
  const twilio = provider(twilioApi.origin);
  try {
    const error = await placementError(twilio.placeCall(request()));
    assert.equal(error.retryable, false);
    assert.equal(error.failure, "bad-response");
  } finally {
    await twilio.close();
    await twilioApi.close();
  }
});

strictTest("an unreachable API is a retryable failure", async () => {
  const closed = startRecorder();
  await closed.close();
  const twilio = provider(closed.origin);
  try {
    const error = await placementError(twilio.placeCall(request()));
    assert.equal(error.retryable, true);
    assert.equal(error.failure, "unreachable");
    assert.equal(error.status, undefined);
  } finally {
    await twilio.close();
  }
});

strictTest("an API that does not answer in time is a retryable failure", async () => {
  const release = gate();
  const twilioApi = startRecorder(async () => {
    await release.promise;
    return new Response("{}", { status: 201 });
  });
  const twilio = provider(twilioApi.origin, { timeoutMs: 50 });
  try {
    const error = await placementError(twilio.placeCall(request()));
    assert.equal(error.retryable, true);
    assert.equal(error.failure, "unreachable");
    assert.match(error.message, /no answer within 50 ms/);
  } finally {
    release.open();
    await twilio.close();
    await twilioApi.close();
  }
});

strictTest("the auth token never appears in an error message", async () => {
  const basic = btoa(`${accountSid}:${authToken}`);
  // A hostile or buggy API that echoes the credentials back.
  const twilioApi = startRecorder((sent) =>
    new Response(
      JSON.stringify({
        code: 20003,
        message: `Authenticate: ${sent.headers.get("authorization")} token=${authToken} ` +
          `see https://${accountSid}:${authToken}@api.twilio.com/`,
      }),
      { status: 401 },
    )
  );
  const twilio = provider(twilioApi.origin);
  try {
    const error = await placementError(twilio.placeCall(request()));
    assert.equal(error.retryable, false);
    assert.ok(!error.message.includes(authToken), error.message);
    assert.ok(!error.message.includes(basic), error.message);
    assert.match(error.message, /HTTP 401 \(20003\)/);
    assert.ok(!String(error.stack).includes(authToken));
  } finally {
    await twilio.close();
    await twilioApi.close();
  }
  const unreachable = provider(`http://${accountSid}:${authToken}@127.0.0.1:1`);
  const error = await placementError(unreachable.placeCall(request()));
  assert.ok(!error.message.includes(authToken), error.message);
  await unreachable.close();
});

strictTest("close() waits for a placement in flight, then refuses new ones", async () => {
  const release = gate();
  const twilioApi = startRecorder(async () => {
    await release.promise;
    return new Response(JSON.stringify({ sid }), { status: 201 });
  });
  const twilio = provider(twilioApi.origin);
  try {
    const placing = twilio.placeCall(request());
    await waitFor(() => twilioApi.requests.length === 1, { what: "the placement to reach the API" });
    const closing = twilio.close();
    const early = await Promise.race([
      closing.then(() => "closed"),
      new Promise((resolve) => setTimeout(() => resolve("pending"), 0)),
    ]);
    assert.equal(early, "pending");
    release.open();
    await closing;
    assert.deepEqual(await placing, { providerCallId: sid });
    const error = await placementError(twilio.placeCall(request()));
    assert.equal(error.failure, "closed");
    assert.equal(error.retryable, true);
    assert.equal(twilioApi.requests.length, 1);
  } finally {
    release.open();
    await twilioApi.close();
  }
});

strictTest("a provider without credentials cannot be made", () => {
  assert.throws(() => provider("http://127.0.0.1:1", { authToken: "" }), /needs authToken/);
});

strictTest("a call's state is read from GET Calls/{sid}.json; anything else is unknown", async () => {
  const twilioApi = startRecorder((request) =>
    request.path.endsWith(`/Calls/${sid}.json`)
      ? json(200, { sid, status: "ringing" })(request)
      : json(404, { code: 20404, message: "not found" })(request)
  );
  const twilio = provider(twilioApi.origin);
  try {
    assert.equal(await twilio.callStatus(sid), "ringing");
    const [sent] = twilioApi.requests;
    assert.equal(sent.method, "GET");
    assert.equal(sent.path, `/2010-04-01/Accounts/${accountSid}/Calls/${sid}.json`);
    assert.equal(sent.headers.get("authorization"), `Basic ${btoa(`${accountSid}:${authToken}`)}`);
    assert.equal(await twilio.callStatus("CA" + "c".repeat(32)), "unknown", "a call Twilio does not know");
    assert.ok(twilio.ringTimeoutMs >= 60_000, "Twilio rings up to its 60 s Timeout");
  } finally {
    await twilio.close();
    await twilioApi.close();
  }
  const unreachable = provider("http://127.0.0.1:9");
  assert.equal(await unreachable.callStatus(sid), "unknown", "Twilio unreachable: cannot tell");
});
