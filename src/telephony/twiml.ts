/**
 * The TwiML the voice and transcript routes answer Twilio with: one prompt at a time.
 *
 * Twilio runs the TwiML of the voice URL when the call is answered. Each prompt is a
 * `<Gather input="speech">` whose action is that prompt's transcript URL; Twilio posts the speech there and
 * runs the TwiML it gets back, so the transcript route answers with the next prompt, or with goodbye after
 * the last one. The simulated provider posts the same transcripts in the same order.
 *
 * @example
 * ```ts
 * const first = prompts[0];
 * return new Response(promptTwiml(first.text, transcriptCallbackUrl(base, callId, first.promptId)), {
 *   headers: { "content-type": TWIML_CONTENT_TYPE },
 * });
 * ```
 * @module
 */

/** The content type of a TwiML response. */
export const TWIML_CONTENT_TYPE = "text/xml; charset=utf-8";

const prolog = `<?xml version="1.0" encoding="UTF-8"?>`;

/** Escapes text for an XML element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Asks one prompt and sends the speech to `actionUrl`. `actionOnEmptyResult` makes Twilio post even when it
 * heard nothing, so silence moves on to the next prompt instead of ending the call.
 */
export function promptTwiml(
  text: string,
  actionUrl: string,
  options: { speechTimeoutSeconds?: number } = {},
): string {
  const timeout = options.speechTimeoutSeconds === undefined ? "auto" : String(options.speechTimeoutSeconds);
  return `${prolog}<Response><Gather input="speech" method="POST" action="${escapeXml(actionUrl)}" ` +
    `speechTimeout="${timeout}" actionOnEmptyResult="true"><Say>${escapeXml(text)}</Say></Gather></Response>`;
}

/** Says `text` (if any) and hangs up: after the last prompt, or for a call we no longer want. */
export function hangupTwiml(text?: string): string {
  const say = text === undefined || text === "" ? "" : `<Say>${escapeXml(text)}</Say>`;
  return `${prolog}<Response>${say}<Hangup/></Response>`;
}
