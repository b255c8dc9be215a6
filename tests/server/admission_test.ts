import assert from "node:assert/strict";
import { Admission } from "../../src/server/admission.ts";

const request = (path = "/api/JournalEntry/_getEntries") => new Request(`http://127.0.0.1:8000${path}`);

Deno.test("admission lets `limit` requests in, queues the rest in order, and admits one per leave", async () => {
  const admission = new Admission({ limit: 2, timeoutMs: 10_000 });
  const [a, b, c, d] = [request(), request(), request(), request()];
  assert.equal(await admission.enter(a), true);
  assert.equal(await admission.enter(b), true);
  const order: string[] = [];
  const third = admission.enter(c).then((ok) => order.push(`c ${ok}`));
  const fourth = admission.enter(d).then((ok) => order.push(`d ${ok}`));
  assert.deepEqual([admission.inside, admission.waiting], [2, 2]);
  admission.leave(a);
  await third;
  assert.deepEqual(order, ["c true"]);
  admission.leave(b);
  await fourth;
  assert.deepEqual(order, ["c true", "d true"]);
  admission.leave(c);
  admission.leave(d);
  assert.deepEqual([admission.inside, admission.waiting], [0, 0]);
});

Deno.test("a request that waits past the timeout is refused with 503 and Retry-After, and leaves the queue", async () => {
  const admission = new Admission({ limit: 1, timeoutMs: 20 });
  const first = request();
  assert.equal(await admission.enter(first), true);
  assert.equal(await admission.enter(request()), false);
  assert.equal(admission.waiting, 0);
  const refusal = admission.refusal();
  assert.equal(refusal.status, 503);
  assert.equal(refusal.headers.get("retry-after"), "1");
  const body = await refusal.json();
  assert.equal(body.error, "The server is busy; retry shortly.");
  assert.equal(body.requestId, refusal.headers.get("x-request-id"));
  admission.leave(first);
  assert.equal(admission.inside, 0);
});

Deno.test("health probes are never queued, and limit 0 admits everything", async () => {
  const busy = new Admission({ limit: 1, timeoutMs: 10_000 });
  assert.equal(await busy.enter(request()), true);
  const probe = request("/health/ready");
  assert.equal(await busy.enter(probe), true);
  busy.leave(probe);
  assert.equal(busy.inside, 1, "a probe neither takes nor frees a place");
  const off = new Admission({ limit: 0, timeoutMs: 1 });
  for (let i = 0; i < 100; i++) assert.equal(await off.enter(request()), true);
  assert.equal(off.inside, 0);
  assert.throws(() => new Admission({ limit: -1, timeoutMs: 1 }), RangeError);
});
