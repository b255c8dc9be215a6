import assert from "node:assert/strict";
import { escapeXml, hangupTwiml, promptTwiml } from "../../src/telephony/twiml.ts";

Deno.test("a prompt is a speech Gather whose action is the prompt's transcript URL, escaped", () => {
  const twiml = promptTwiml("What's <new> & good?", "https://z.example/t?callId=c1&promptId=p1");
  assert.equal(
    twiml,
    `<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="speech" method="POST" ` +
      `action="https://z.example/t?callId=c1&#38;promptId=p1" speechTimeout="auto" actionOnEmptyResult="true">` +
      `<Say>What&#39;s &#60;new&#62; &#38; good?</Say></Gather></Response>`,
  );
  assert.match(promptTwiml("Hi", "https://z.example/t", { speechTimeoutSeconds: 3 }), /speechTimeout="3"/);
});

Deno.test("hanging up says goodbye only when there is something to say", () => {
  assert.equal(hangupTwiml(), `<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>`);
  assert.equal(
    hangupTwiml("Thank you"),
    `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you</Say><Hangup/></Response>`,
  );
  assert.equal(escapeXml(`"a"`), "&#34;a&#34;");
});
