/**
 * Profile: phone number, name, time zone and call preferences.
 *
 * @module
 */
export * from "./profile.ts";
export * from "./schemas.ts";
