/**
 * ReflectionSession: a sitting in which a person answers their prompts.
 *
 * @module
 */
export * from "./reflection_session.ts";
export * from "./schemas.ts";
