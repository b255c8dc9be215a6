/**
 * The OpenAPI 3.1 document of the concept API, generated from the registry and its zod schemas, so the
 * document and the validation can never disagree.
 *
 * @module
 */
import { z } from "zod";
import type { ActionSpec } from "./registry.ts";
import { MAX_BODY_BYTES } from "./body.ts";

type JsonObject = Record<string, unknown>;

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: { type: "string", description: "A sentence saying what was wrong." },
    requestId: { type: "string", description: "The X-Request-Id of the request, for the logs." },
    issues: {
      type: "array",
      items: {
        type: "object",
        required: ["field", "message"],
        properties: { field: { type: "string" }, message: { type: "string" } },
      },
    },
  },
};

const errorRef = { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
const error = (description: string) => ({ description, ...errorRef });

function inputSchema(spec: ActionSpec): JsonObject {
  const schema = z.toJSONSchema(spec.input, { io: "input", unrepresentable: "any" }) as JsonObject;
  delete schema.$schema;
  return schema;
}

function operation(spec: ActionSpec): JsonObject {
  const isQuery = spec.action.startsWith("_");
  const responses: JsonObject = {
    200: {
      description: isQuery ? "The results, as an array." : "The action's result.",
      content: { "application/json": { schema: { type: isQuery ? "array" : "object" } } },
    },
    400: error(
      "Malformed JSON, a field name starting with '$' or containing '.', a schema violation (naming each field), or a domain rule the input breaks.",
    ),
    404: error("Unknown concept or action, or the thing named is not yours."),
    405: error("A method other than POST."),
    413: error(`A body over ${MAX_BODY_BYTES} bytes.`),
    415: error("A body that is not JSON."),
    409: error("A domain conflict, with a sentence that says why."),
  };
  if (spec.auth) responses[401] = error("No token, or a token that is unknown, revoked or expired.");
  if (spec.concept === "UserAuth" && spec.action === "login") {
    responses[401] = error("Wrong username or password.");
    responses[429] = error("Too many failed logins for this username; see Retry-After.");
  }
  return {
    operationId: `${spec.concept}.${spec.action}`,
    summary: spec.summary,
    tags: [spec.concept],
    security: spec.auth ? [{ bearer: [] }] : [],
    requestBody: { required: true, content: { "application/json": { schema: inputSchema(spec) } } },
    responses,
  };
}

/** The OpenAPI 3.1 document for `actions`. */
export function buildOpenApi(actions: readonly ActionSpec[]): JsonObject {
  const paths: JsonObject = {};
  for (const spec of actions) paths[`/api/${spec.concept}/${spec.action}`] = { post: operation(spec) };
  return {
    openapi: "3.1.0",
    info: {
      title: "Zien concept API",
      version: "1.0.0",
      description:
        "Each action is POST /api/{Concept}/{action} with one JSON object; queries start with '_' " +
        "and return arrays. Actions that belong to a person take them from Authorization: Bearer <token>.",
    },
    tags: [...new Set(actions.map((a) => a.concept))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "The token from UserAuth/login." },
      },
      schemas: { Error: errorSchema },
    },
  };
}
