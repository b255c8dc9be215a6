/**
 * `GET /api/openapi.json`: an OpenAPI 3.1 document made from the very schemas that validate requests.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { ACTIONS } from "../../../src/server/concepts/mod.ts";
import { openApi } from "./harness.ts";

Deno.test("the OpenAPI document lists every registered action with its schema", async () => {
  const h = await openApi();
  try {
    const res = await h.app.request("/api/openapi.json");
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.openapi, "3.1.0");
    const conceptPaths = Object.keys(doc.paths).filter((path) => /^\/api\/[A-Z]/.test(path));
    assert.equal(conceptPaths.length, ACTIONS.length);
    for (const spec of ACTIONS) {
      const op = doc.paths[`/api/${spec.concept}/${spec.action}`]?.post;
      assert.ok(op, `${spec.concept}/${spec.action} missing`);
      const { $schema: _, ...expected } = z.toJSONSchema(spec.input, { io: "input", unrepresentable: "any" });
      assert.deepEqual(op.requestBody.content["application/json"].schema, expected);
      assert.deepEqual(op.security, spec.auth ? [{ bearer: [] }] : []);
      assert.equal(op.requestBody.content["application/json"].schema.additionalProperties, false);
    }
    const register = doc.paths["/api/UserAuth/register"].post.requestBody.content["application/json"].schema;
    assert.deepEqual(register.required, ["username", "password"]);
    assert.equal(register.properties.username.maxLength, 32);
    const window =
      doc.paths["/api/CallWindow/addRecurringWindow"].post.requestBody.content["application/json"].schema;
    assert.equal(window.properties.dayOfWeek.minimum, 1);
    assert.equal(window.properties.dayOfWeek.maximum, 7);
    assert.equal(doc.components.securitySchemes.bearer.scheme, "bearer");
    assert.ok(doc.servers.length > 0);
    assert.ok(doc.info.license.name);
    for (
      const path of [
        "/api/stats",
        "/api/analytics/track",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/api/health/connections",
        "/webhooks/telephony/status",
        "/webhooks/telephony/transcript",
        "/webhooks/telephony/voice",
        "/docs",
      ]
    ) assert.ok(doc.paths[path], `${path} missing`);
    for (const code of [400, 401, 404, 409, 413, 415, 429, 500, 503]) {
      const response = doc.components.responses[`E${code}`];
      assert.deepEqual(response.content["application/json"].schema, { $ref: "#/components/schemas/Error" });
    }
    const login = doc.paths["/api/UserAuth/login"].post.responses;
    assert.deepEqual(login[200].content["application/json"].schema, {
      $ref: "#/components/schemas/LoginResult",
    });
    assert.deepEqual(doc.components.schemas.LoginResult.required, ["token", "user"]);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods as Record<string, { responses: object }>)) {
        const ok = Object.keys(op.responses).find((code) => code.startsWith("2"));
        assert.ok(ok, `${method} ${path} has no 2xx answer`);
      }
    }
  } finally {
    await h.close();
  }
});

Deno.test("every exposed action belongs to a person except register and login", () => {
  const open = ACTIONS.filter((a) => !a.auth).map((a) => `${a.concept}/${a.action}`);
  assert.deepEqual(open, ["UserAuth/register", "UserAuth/login"]);
  for (const spec of ACTIONS) {
    assert.ok(!("user" in spec.input.shape), `${spec.concept}/${spec.action} takes user from the body`);
    assert.equal(spec.action.startsWith("_"), /^_get/.test(spec.action));
  }
});
