import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import {
  createTelephonyProvider,
  parseStatusCallback,
  statusCallbackUrl,
  TWILIO_SIGNATURE_HEADER,
  verifyTwilioSignature,
} from "../../src/telephony/mod.ts";
import { waitFor } from "../helpers/wait.ts";
import { startRecorder, strictTest } from "./recorder.ts";

const telephonyConfig = (env: Record<string, string>) => loadConfig(env, { isTerminal: false }).telephony;

strictTest("the simulated provider is the default, and signs when an auth token is configured", async () => {
  const unsigned = createTelephonyProvider(telephonyConfig({}));
  assert.equal(unsigned.name, "simulated");
  await unsigned.close();

  const receiver = startRecorder();
  const config = telephonyConfig({ TELEPHONY_SIM_RING_MS: "5", TWILIO_AUTH_TOKEN: "dev-token" });
  const telephony = createTelephonyProvider(config, { simulatedOutcome: "no-answer" });
  try {
    const { providerCallId } = await telephony.placeCall({
      to: "+15550001111",
      callId: "call-1",
      statusCallbackUrl: statusCallbackUrl(receiver.origin, "call-1"),
    });
    await waitFor(() => receiver.requests.some((request) => request.form.get("CallStatus") === "no-answer"), {
      what: "the no-answer callback",
    });
    const last = receiver.requests.at(-1)!;
    assert.deepEqual(parseStatusCallback(new URL(last.url), last.form), {
      callId: "call-1",
      providerCallId,
      status: "no-answer",
      to: "+15550001111",
      from: "+15005550006",
      accountSid: "AC" + "0".repeat(32),
      durationSeconds: 0,
    });
    const signature = last.headers.get(TWILIO_SIGNATURE_HEADER);
    assert.equal(
      await verifyTwilioSignature({ authToken: "dev-token", url: last.url, params: last.form, signature }),
      true,
    );
  } finally {
    await telephony.close();
    await receiver.close();
  }
});

strictTest("TELEPHONY_PROVIDER=twilio places calls through the configured API base", async () => {
  const twilioApi = startRecorder(() =>
    new Response(JSON.stringify({ sid: "CA" + "c".repeat(32) }), { status: 201 })
  );
  const config = telephonyConfig({
    TELEPHONY_PROVIDER: "twilio",
    TWILIO_ACCOUNT_SID: "AC" + "d".repeat(32),
    TWILIO_AUTH_TOKEN: "token",
    TWILIO_FROM_NUMBER: "+15005550006",
    TWILIO_API_BASE: twilioApi.origin,
    PUBLIC_BASE_URL: "https://zien.example",
  });
  const telephony = createTelephonyProvider(config);
  try {
    assert.equal(telephony.name, "twilio");
    const result = await telephony.placeCall({
      to: "+15550001111",
      callId: "call-1",
      statusCallbackUrl: statusCallbackUrl("https://zien.example", "call-1"),
    });
    assert.equal(result.providerCallId, "CA" + "c".repeat(32));
    assert.equal(twilioApi.requests[0].path, `/2010-04-01/Accounts/AC${"d".repeat(32)}/Calls.json`);
  } finally {
    await telephony.close();
    await twilioApi.close();
  }
});
