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

Deno.test("health probes and metrics scrapes are never queued, and limit 0 admits everything", async () => {
  const busy = new Admission({ limit: 1, timeoutMs: 10_000 });
  const holder = request();
  assert.equal(await busy.enter(holder), true);
  for (const path of ["/health/ready", "/health/live", "/metrics"]) {
    const probe = request(path);
    assert.equal(await busy.enter(probe), true, path);
    busy.leave(probe);
  }
  assert.equal(busy.inside, 1, "a probe neither takes nor frees a place");
  assert.equal(busy.waiting, 0);
  const metricsLike = request("/metricsfoo");
  let admitted = false;
  void busy.enter(metricsLike).then((ok) => (admitted = ok));
  assert.equal(busy.waiting, 1, "only /metrics itself skips the queue");
  busy.leave(holder);
  await Promise.resolve();
  assert.equal(admitted, true);
  const off = new Admission({ limit: 0, timeoutMs: 1 });
  for (let i = 0; i < 100; i++) assert.equal(await off.enter(request()), true);
  assert.equal(off.inside, 0);
  assert.throws(() => new Admission({ limit: -1, timeoutMs: 1 }), RangeError);
});

Deno.test("timeout 0 waits as long as it takes, as the driver's waitQueueTimeoutMS 0 does", async () => {
  const admission = new Admission({ limit: 1, timeoutMs: 0 });
  const first = request();
  assert.equal(await admission.enter(first), true);
  const second = admission.enter(request());
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(admission.waiting, 1, "still waiting, not refused");
  admission.leave(first);
  assert.equal(await second, true);
});
