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
    assert.equal(Object.keys(doc.paths).length, ACTIONS.length);
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
