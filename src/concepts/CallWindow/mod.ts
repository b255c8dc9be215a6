/**
 * CallWindow: weekly and one-off call windows, and which one is open at a given instant.
 *
 * @module
 */
export * from "./call_window.ts";
export * from "./active_window.ts";
export * from "./schemas.ts";
