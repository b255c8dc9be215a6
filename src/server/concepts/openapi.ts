/**
 * The OpenAPI 3.1 document of the whole HTTP API, made from the zod schemas that validate the requests and
 * shape the answers, so the document and the behaviour cannot disagree: the concept actions from the
 * registry and `responses.ts`, the other routes from `openapi_routes.ts`.
 *
 * @module
 */
import type { ActionSpec } from "./registry.ts";
import { MAX_BODY_BYTES } from "./body.ts";
import { responseSchema } from "./responses.ts";
import { ErrorBody, otherRoutes } from "./openapi_routes.ts";
import { type JsonObject, SchemaComponents } from "./openapi_schema.ts";

const ERRORS: Record<number, string> = {
  400: "Malformed JSON, a field name starting with '$' or containing '.', a schema violation (naming each " +
    "field), or a domain rule the input breaks.",
  401: "No token, or a token that is unknown, revoked or expired (for login: a wrong username or password).",
  404: "No such route (or not for this method), an unknown concept or action, or a thing that is not yours.",
  405: "A method other than POST.",
  409: "A domain conflict, with a sentence that says why.",
  413: `A body over ${MAX_BODY_BYTES} bytes.`,
  415: "A body that is not JSON.",
  429: "Too many attempts (failed logins for one username); see Retry-After.",
  500: "Something unexpected; the answer carries only the request id, the log has the rest.",
  503: "The database is busy or unreachable; retry after Retry-After seconds.",
};

const errors = (codes: number[]): JsonObject =>
  Object.fromEntries(codes.map((code) => [code, { $ref: `#/components/responses/E${code}` }]));

const CONCEPT_ERRORS = [400, 401, 404, 405, 409, 413, 415, 429, 500, 503];

function operation(spec: ActionSpec, schemas: SchemaComponents): JsonObject {
  const isQuery = spec.action.startsWith("_");
  return {
    operationId: `${spec.concept}.${spec.action}`,
    summary: spec.summary,
    tags: [spec.concept],
    security: spec.auth ? [{ bearer: [] }] : [],
    requestBody: {
      required: true,
      content: { "application/json": { schema: schemas.convert(spec.input, "input") } },
    },
    responses: {
      200: {
        description: isQuery ? "The results, as an array." : "The action's result.",
        content: {
          "application/json": {
            schema: schemas.convert(responseSchema(spec.concept, spec.action), "output"),
          },
        },
      },
      ...errors(spec.auth ? CONCEPT_ERRORS : CONCEPT_ERRORS.filter((code) => code !== 401 || isLogin(spec))),
    },
  };
}

const isLogin = (spec: ActionSpec) => spec.concept === "UserAuth" && spec.action === "login";

const TAGS: Record<string, string> = {
  UserAuth: "Accounts and bearer tokens.",
  Profile: "The person's phone number, name, time zone and call preferences.",
  JournalPrompt: "The questions a reflection asks, in order.",
  CallWindow: "When the person may be called.",
  ReflectionSession: "Answering the prompts, by phone or by text.",
  CallScheduler: "The calls that run phone reflections.",
  JournalEntry: "The entries completed reflections make.",
  Stats: "A person's figures and the platform totals.",
  Analytics: "Product analytics events.",
  Health: "Liveness and readiness, for load balancers and orchestrators.",
  Admin: "The operator's view (admin token): the connections report and the dashboard.",
  Metrics: "Prometheus metrics.",
  Webhooks: "Callbacks from the telephony provider.",
  Docs: "This document and its reference page.",
};

/** The OpenAPI 3.1 document for `actions` and every other route of the app. */
export function buildOpenApi(actions: readonly ActionSpec[]): JsonObject {
  const schemas = new SchemaComponents();
  const paths: JsonObject = {};
  for (const spec of actions) {
    paths[`/api/${spec.concept}/${spec.action}`] = { post: operation(spec, schemas) };
  }
  Object.assign(paths, otherRoutes(schemas, errors));
  const errorSchema = schemas.convert(ErrorBody, "output");
  const responses = Object.fromEntries(
    Object.entries(ERRORS).map(([code, description]) => [
      `E${code}`,
      { description, content: { "application/json": { schema: errorSchema } } },
    ]),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: "Zien API",
      version: "1.0.0",
      description:
        "Each concept action is `POST /api/{Concept}/{action}` with one JSON object; queries start with '_' " +
        "and return arrays. Actions that belong to a person take them from `Authorization: Bearer <token>`. " +
        "Every JSON refusal has the one Error shape.",
      license: { name: "Proprietary", identifier: "LicenseRef-Zien-Proprietary" },
    },
    servers: [{ url: "/", description: "The server that serves this document." }],
    tags: [...new Set(Object.values(paths).flatMap((p) => Object.values(p as JsonObject)))]
      .flatMap((op) => (op as { tags: string[] }).tags)
      .filter((name, i, all) => all.indexOf(name) === i)
      .map((name) => ({ name, description: TAGS[name] ?? name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "The token from UserAuth/login." },
        admin: { type: "http", scheme: "bearer", description: "The server's ADMIN_TOKEN." },
        metrics: { type: "http", scheme: "bearer", description: "The server's METRICS_TOKEN, when set." },
      },
      schemas: schemas.schemas,
      responses,
    },
  };
}
