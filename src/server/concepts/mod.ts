/**
 * The concept API: `POST /api/{Concept}/{action}` for the registered actions, and `GET /api/openapi.json`.
 *
 * @example
 * ```ts
 * const app = new Hono();
 * app.use(requestId());
 * app.route("/", conceptRoutes({ concepts: createConcepts(db) }));
 * app.onError(errorHandler());
 * ```
 * @module
 */
export { conceptRoutes, type ConceptRoutesOptions } from "./routes.ts";
export type { ActionDone } from "./registry.ts";
export { ACTIONS, type ActionSpec, type Caller, lookupAction } from "./registry.ts";
export { buildOpenApi } from "./openapi.ts";
export { MAX_BODY_BYTES } from "./body.ts";
export { findUnsafeKey } from "./injection.ts";
