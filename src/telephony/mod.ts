/**
 * Telephony: placing calls (simulated or through Twilio), the callbacks that report on them, and the
 * signature that proves a callback came from Twilio.
 *
 * @example
 * ```ts
 * const telephony = createTelephonyProvider(config.telephony);
 * const { providerCallId } = await telephony.placeCall({
 *   to: person.phone,
 *   callId,
 *   statusCallbackUrl: statusCallbackUrl(publicBaseUrl, callId),
 *   prompts,
 * });
 * // at shutdown, after the workers stopped:
 * await telephony.close();
 * ```
 * @module
 */
import type { TelephonyConfig } from "../config.ts";
import type { TelephonyProvider } from "./provider.ts";
import { type OutcomePlan, SimulatedProvider, type SimulatedProviderOptions } from "./simulated.ts";
import { TwilioProvider } from "./twilio.ts";

export * from "./provider.ts";
export * from "./callbacks.ts";
export * from "./callback_url.ts";
export * from "./signature.ts";
export * from "./twiml.ts";
export {
  fakeCallSid,
  type OutcomePlan,
  SIMULATED_ACCOUNT_SID,
  SIMULATED_FROM_NUMBER,
  type SimulatedCallOutcome,
  type SimulatedOutcome,
  SimulatedProvider,
  type SimulatedProviderOptions,
} from "./simulated.ts";
export { STATUS_CALLBACK_EVENTS, TwilioProvider, type TwilioProviderOptions } from "./twilio.ts";

/** What the factory takes besides the configuration, for tests and development. */
export interface TelephonyDeps {
  /** The simulated provider's outcomes; default every call is answered. */
  simulatedOutcome?: OutcomePlan;
  /** Anything else for the simulated provider (speech, timeouts). */
  simulated?: Partial<Omit<SimulatedProviderOptions, "outcome">>;
  /** Replaces the global `fetch` for either provider. */
  fetch?: typeof fetch;
}

/**
 * The provider `TELEPHONY_PROVIDER` names; the configuration has already checked that `twilio` has all its
 * settings. The simulated provider signs its callbacks when `TWILIO_AUTH_TOKEN` is set, so a webhook route
 * that verifies whenever a token is configured is exercised the same way with either provider.
 */
export function createTelephonyProvider(
  config: TelephonyConfig,
  deps: TelephonyDeps = {},
): TelephonyProvider {
  if (config.provider === "twilio") {
    return new TwilioProvider({
      ...config.twilio,
      publicBaseUrl: config.publicBaseUrl,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
  }
  const options: SimulatedProviderOptions = { ringMs: config.simRingMs, ...deps.simulated };
  if (deps.simulatedOutcome !== undefined) options.outcome = deps.simulatedOutcome;
  const { accountSid, authToken, fromNumber } = config.twilio;
  options.authToken ??= authToken;
  options.accountSid ??= accountSid;
  options.fromNumber ??= fromNumber;
  if (deps.fetch !== undefined) options.fetch = deps.fetch;
  return new SimulatedProvider(options);
}
