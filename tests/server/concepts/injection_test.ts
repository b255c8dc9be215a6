/**
 * Operator injection and odd input, table-driven from the registry: for every field of every action, a
 * value carrying a `$` key, a dotted key or a NUL in a key is refused with 400 naming that field; a body that
 * is not an object is refused with 400 naming the body; and the database is left as it was.
 */
import assert from "node:assert/strict";
import { ACTIONS } from "../../../src/server/concepts/mod.ts";
import { openApi } from "./harness.ts";

const PAYLOADS: { name: string; value: unknown; suffix: string }[] = [
  { name: "$ne operator", value: { $ne: null }, suffix: ".$ne" },
  { name: "$gt operator", value: { $gt: "" }, suffix: ".$gt" },
  { name: "$where in an array", value: [{ $where: "sleep(1000)" }], suffix: "[0].$where" },
  { name: "dotted key", value: { "password.hash": "x" }, suffix: ".password.hash" },
  { name: "deeply nested $regex", value: { a: [{ b: { $regex: ".*" } }] }, suffix: ".a[0].b.$regex" },
  { name: "NUL in a key", value: { "a\u0000b": 1 }, suffix: ".a\u0000b" },
];

/** JSON bodies that are not an object: each must be a 400 naming the body, never a 500. */
const NOT_OBJECTS = ["null", "1", '"text"', "true", "[]", "[null]"];

Deno.test("injection attempts in every field of every action are refused and change nothing", async (t) => {
  const h = await openApi();
  try {
    const { token } = await h.account("injector");
    const snapshot = async () => {
      const names = (await h.db.listCollections().toArray()).map((c) => c.name).sort();
      return Promise.all(names.map(async (name) => [name, await h.db.collection(name).find().toArray()]));
    };
    const before = JSON.stringify(await snapshot());

    for (const spec of ACTIONS) {
      const fields = Object.keys(spec.input.shape);
      await t.step(`${spec.concept}/${spec.action}`, async () => {
        // Actions without fields still refuse an operator key at the top.
        const bodies: [unknown, string][] = [
          [{ $where: "1" }, "$where"],
          [{ "a.b": 1 }, "a.b"],
          [{ "a\u0000": 1 }, "a\u0000"],
        ];
        for (const field of fields) {
          for (const payload of PAYLOADS) bodies.push([{ [field]: payload.value }, field + payload.suffix]);
        }
        for (const [body, field] of bodies) {
          const res = await h.post(`${spec.concept}/${spec.action}`, body, token);
          assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.status}`);
          assert.equal(res.json.issues[0].field, field);
        }
        for (const body of NOT_OBJECTS) {
          const res = await h.send(`${spec.concept}/${spec.action}`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body,
          });
          assert.equal(res.status, 400, `${body} -> ${res.status} ${JSON.stringify(res.json)}`);
          assert.deepEqual(res.json.issues, [{ field: "(body)", message: "must be a JSON object" }]);
          assert.match(res.json.error, /must be a JSON object/);
        }
      });
    }

    await t.step("operator-looking strings are stored as plain text", async () => {
      const text = '{"$ne": null} && this.password';
      const added = await h.post("JournalPrompt/addPrompt", { text }, token);
      assert.equal(added.status, 200);
      const prompts = (await h.post("JournalPrompt/_getPrompts", {}, token)).json;
      assert.equal(prompts.at(-1).text, text);
      await h.post("JournalPrompt/deletePrompt", { prompt: added.json.prompt }, token);
    });

    await t.step("the database is exactly as it was", async () => {
      assert.equal(JSON.stringify(await snapshot()), before);
    });
  } finally {
    await h.close();
  }
});

Deno.test("every action's schema judges any JSON value without throwing", () => {
  // The HTTP layer refuses non-objects first; the schemas must still never throw on them.
  for (const spec of ACTIONS) {
    for (const text of NOT_OBJECTS) {
      const result = spec.input.safeParse(JSON.parse(text));
      assert.equal(result.success, false, `${spec.concept}/${spec.action} accepted ${text}`);
    }
  }
});
