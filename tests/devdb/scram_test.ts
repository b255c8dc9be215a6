import assert from "node:assert/strict";
import { type Document, MongoClient, MongoServerError } from "mongodb";
import { type DevDb, startDevDb } from "../../src/devdb/mod.ts";
import { parseCliArgs } from "../../src/devdb/cli_args.ts";

const USERS = [
  { user: "app", password: "s3cret", db: "admin", roles: [{ role: "readWrite", db: "zien" }] },
  { user: "ops", password: "watch", roles: ["clusterMonitor"] },
  { user: "admin", password: "r00t", roles: ["root"] },
];

function client(devdb: DevDb, credentials?: string, options = ""): MongoClient {
  const auth = credentials ? `${credentials}@` : "";
  return new MongoClient(`mongodb://${auth}127.0.0.1:${devdb.port}/?directConnection=true${options}`, {
    serverSelectionTimeoutMS: 3_000,
  });
}

async function failure(promise: Promise<unknown>): Promise<MongoServerError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof MongoServerError, `expected a server error, got ${error}`);
  return error;
}

Deno.test("SCRAM-SHA-256 and SCRAM-SHA-1 logins; a wrong password is AuthenticationFailed (18)", async () => {
  const devdb = await startDevDb({ users: USERS });
  const clients: MongoClient[] = [];
  try {
    for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-1", undefined]) {
      const c = client(devdb, "app:s3cret", mechanism ? `&authMechanism=${mechanism}` : "");
      clients.push(c);
      await c.db("zien").collection("notes").insertOne({ by: mechanism ?? "default" });
      const status = await c.db("admin").command({ connectionStatus: 1 });
      assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: "app", db: "admin" }]);
    }
    assert.equal(await clients[0].db("zien").collection("notes").countDocuments(), 3);

    const wrong = client(devdb, "app:nope");
    clients.push(wrong);
    const denied = await failure(wrong.connect());
    assert.equal(denied.code, 18);
    assert.equal(denied.codeName, "AuthenticationFailed");
    const unknown = client(devdb, "ghost:s3cret");
    clients.push(unknown);
    assert.equal((await failure(unknown.connect())).code, 18);

    // Without credentials the handshake and ping answer; everything else needs authentication.
    const anonymous = client(devdb);
    clients.push(anonymous);
    assert.deepEqual(await anonymous.db("admin").command({ ping: 1 }), { ok: 1 });
    const refused = await failure(anonymous.db("zien").collection("notes").findOne({}));
    assert.equal(refused.code, 13);
    assert.match(refused.message, /requires authentication/);
  } finally {
    for (const c of clients) await c.close();
    await devdb.stop();
  }
});

Deno.test("a readWrite user: serverStatus and currentOp $all refused (13), its own operations answered", async () => {
  const devdb = await startDevDb({ users: USERS });
  const app = client(devdb, "app:s3cret", "&appName=mine");
  const ops = client(devdb, "ops:watch", "&appName=theirs");
  try {
    await app.db("zien").collection("notes").insertOne({ a: 1 });
    await ops.db("admin").command({ ping: 1 });
    const admin = app.db("admin");
    assert.equal((await failure(admin.command({ serverStatus: 1 }))).code, 13);
    assert.equal((await failure(admin.command({ currentOp: 1, $all: true }))).code, 13);
    assert.equal((await failure(admin.command({ currentOp: 1 }))).code, 13);
    const other = await failure(app.db("other").collection("x").insertOne({ a: 1 }));
    assert.equal(other.code, 13, "readWrite on zien only");
    assert.match(other.message, /not authorized on other/);

    const own = await admin.command({ currentOp: 1, $all: true, $ownOps: true });
    assert.ok(own.inprog.length >= 1);
    for (const op of own.inprog as Document[]) {
      assert.deepEqual(op.effectiveUsers, [{ user: "app", db: "admin" }]);
    }
    const stage = await admin.aggregate([{ $currentOp: { allUsers: false, idleConnections: true } }])
      .toArray();
    assert.ok(stage.length >= 1);
    assert.ok(stage.every((op) => op.appName === "mine"), "only the caller's connections");
    assert.equal((await failure(admin.aggregate([{ $currentOp: { allUsers: true } }]).toArray())).code, 13);
    const elsewhere = await failure(app.db("zien").aggregate([{ $currentOp: {} }]).toArray());
    assert.equal(elsewhere.code, 73, "$currentOp runs on admin only");

    // clusterMonitor has inprog and serverStatus: it sees everybody.
    const status = await ops.db("admin").command({ serverStatus: 1 });
    assert.ok(status.connections.current >= 2);
    const all = await ops.db("admin").command({ currentOp: 1, $all: true });
    assert.ok(all.inprog.some((op: Document) => op.appName === "mine"));
    assert.equal((await failure(ops.db("zien").collection("notes").findOne({}))).code, 13, "but no data");
  } finally {
    await app.close();
    await ops.close();
    await devdb.stop();
  }
});

Deno.test("createUser: the first user needs no login, the next ones need a root login", async () => {
  const devdb = await startDevDb();
  const anonymous = client(devdb);
  const root = client(devdb, "boss:first-pass");
  const created = client(devdb, "reader:second-pass");
  try {
    await anonymous.db("admin").command({ createUser: "boss", pwd: "first-pass", roles: ["root"] });
    const refused = await failure(
      anonymous.db("admin").command({ createUser: "sneaky", pwd: "x", roles: ["root"] }),
    );
    assert.equal(refused.code, 13);
    await root.db("admin").command({
      createUser: "reader",
      pwd: "second-pass",
      roles: [{ role: "read", db: "zien" }],
    });
    assert.equal(
      (await failure(root.db("admin").command({ createUser: "reader", pwd: "y", roles: [] }))).code,
      51003,
    );
    assert.equal(
      (await failure(root.db("admin").command({ createUser: "bad", pwd: "y", roles: ["nonsense"] }))).code,
      31,
    );
    await root.db("zien").collection("books").insertOne({ title: "Dune" });
    assert.equal((await created.db("zien").collection("books").findOne({}))?.title, "Dune");
    assert.equal((await failure(created.db("zien").collection("books").insertOne({}))).code, 13, "read only");
    const { users } = await root.db("admin").command({ usersInfo: 1 });
    assert.deepEqual(users.map((user: Document) => user.user).sort(), ["boss", "reader"]);
  } finally {
    await anonymous.close();
    await root.close();
    await created.close();
    await devdb.stop();
  }
});

Deno.test("--user NAME:PASSWORD:ROLE[,ROLE] on the command line", () => {
  const parsed = parseCliArgs(["--user", "app:pa:ss:readWrite@zien,clusterMonitor", "--in-memory"]);
  assert.ok("options" in parsed);
  assert.deepEqual(parsed.options.users, [{
    user: "app",
    password: "pa:ss",
    db: "admin",
    roles: [{ role: "readWrite", db: "zien" }, { role: "clusterMonitor", db: "admin" }],
  }]);
  const bare = parseCliArgs(["--user", "app:pw:readWrite"]);
  assert.ok("error" in bare && /readWrite@DB/.test(bare.error));
  assert.ok("error" in parseCliArgs(["--user", "nopassword"]));
});
