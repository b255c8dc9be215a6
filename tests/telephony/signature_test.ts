import assert from "node:assert/strict";
import { signTwilioRequest, verifyTwilioSignature } from "../../src/telephony/signature.ts";

// Twilio's published example (its webhook security docs and the helper libraries' own tests).
const vector = {
  authToken: "12345",
  url: "https://mycompany.com/myapp.php?foo=1&bar=2",
  params: {
    CallSid: "CA1234567890ABCDE",
    Caller: "+14158675309",
    Digits: "1234",
    From: "+14158675309",
    To: "+18005551212",
  },
  signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
};

Deno.test("signing reproduces Twilio's published example", async () => {
  assert.equal(await signTwilioRequest(vector), vector.signature);
  assert.equal(await verifyTwilioSignature(vector), true);
});

Deno.test("a form body signs the same as a record, whatever the order of its fields", async () => {
  const body =
    "To=%2B18005551212&From=%2B14158675309&Digits=1234&Caller=%2B14158675309&CallSid=CA1234567890ABCDE";
  assert.equal(await verifyTwilioSignature({ ...vector, params: new URLSearchParams(body) }), true);
  const form = new FormData();
  for (const [name, value] of new URLSearchParams(body)) form.append(name, value);
  assert.equal(await verifyTwilioSignature({ ...vector, params: form }), true);
});

Deno.test("a changed parameter, URL or token fails", async () => {
  const cases = [
    { ...vector, params: { ...vector.params, Digits: "1235" } },
    { ...vector, params: { ...vector.params, Extra: "" } },
    { ...vector, params: { ...vector.params, Digits: undefined } },
    { ...vector, url: "https://mycompany.com/myapp.php?foo=1&bar=3" },
    { ...vector, url: "http://mycompany.com/myapp.php?foo=1&bar=2" },
    { ...vector, authToken: "12346" },
  ];
  for (const input of cases) assert.equal(await verifyTwilioSignature(input), false, JSON.stringify(input));
});

Deno.test("missing, empty and different-length signatures are false, not exceptions", async () => {
  for (const signature of [undefined, null, "", "RSOYDt4T1cUTdK1PDd93/VVr8B8", "x".repeat(200), "é"]) {
    assert.equal(await verifyTwilioSignature({ ...vector, signature }), false, String(signature));
  }
  assert.equal(await verifyTwilioSignature({ ...vector, authToken: "" }), false);
});

Deno.test("a signature over the URL with the default port verifies against the URL without it", async () => {
  const withPort = await signTwilioRequest({
    ...vector,
    url: "https://mycompany.com:443/myapp.php?foo=1&bar=2",
  });
  assert.notEqual(withPort, vector.signature);
  assert.equal(await verifyTwilioSignature({ ...vector, signature: withPort }), true);
  assert.equal(
    await verifyTwilioSignature({ ...vector, url: "https://mycompany.com:443/myapp.php?foo=1&bar=2" }),
    true,
  );
  const otherPort = await signTwilioRequest({
    ...vector,
    url: "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
  });
  assert.equal(await verifyTwilioSignature({ ...vector, signature: otherPort }), false);
});

Deno.test("a repeated field signs each value, so reordering its values keeps the signature", async () => {
  const url = "https://example.com/hook";
  const a = await signTwilioRequest({ authToken: "t", url, params: new URLSearchParams("E=b&E=a&C=1") });
  const b = await signTwilioRequest({ authToken: "t", url, params: { C: "1", E: ["a", "b"] } });
  assert.equal(a, b);
  const dropped = await signTwilioRequest({ authToken: "t", url, params: { C: "1", E: ["a"] } });
  assert.notEqual(a, dropped);
  assert.equal(
    await verifyTwilioSignature({ authToken: "t", url, params: { C: "1", E: "a" }, signature: a }),
    false,
  );
});
