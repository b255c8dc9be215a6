import assert from "node:assert/strict";
import { deserialize, serialize } from "bson";
import { MongoClient } from "mongodb";
import { startDevDb } from "../../src/devdb/mod.ts";
import { waitFor } from "../helpers/wait.ts";

function header(length: number, opCode: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, length, true);
  view.setInt32(4, 1, true);
  view.setInt32(12, opCode, true);
  return bytes;
}

function opMsg(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(21 + body.length);
  frame.set(header(frame.length, 2013));
  frame.set(body, 21);
  return frame;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) written += await conn.write(bytes.subarray(written));
}

/** Reads until the server closes the socket; true if it did within the deadline. */
async function closedByServer(conn: Deno.Conn): Promise<boolean> {
  const buffer = new Uint8Array(1024);
  const timer = setTimeout(() => conn.close(), 5_000);
  try {
    while ((await conn.read(buffer)) !== null) { /* a reply would be a failure; keep reading to EOF */ }
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const invalidBson = (() => {
  const doc = serialize({ ping: 1, $db: "admin" });
  doc[4] = 0x7f; // an element type that does not exist
  return doc;
})();

const cases: [string, (conn: Deno.Conn) => Promise<void>][] = [
  ["a length below the header size", (conn) => writeAll(conn, header(5, 2013))],
  ["a length above 48 MB", (conn) => writeAll(conn, header(48_000_001, 2013))],
  ["a frame cut short by the client", async (conn) => {
    await writeAll(conn, opMsg(serialize({ ping: 1, $db: "admin" })).subarray(0, 20));
    await (conn as Deno.TcpConn).closeWrite();
  }],
  ["invalid BSON", (conn) => writeAll(conn, opMsg(invalidBson))],
  ["an unknown opcode", (conn) => writeAll(conn, new Uint8Array([...header(20, 9999), 0, 0, 0, 0]))],
  ["a BSON length past the frame", (conn) => {
    const frame = opMsg(serialize({ ping: 1, $db: "admin" }));
    new DataView(frame.buffer).setInt32(21, 4096, true);
    return writeAll(conn, frame);
  }],
];

for (const [name, send] of cases) {
  Deno.test(`a malformed frame (${name}) closes only its own connection`, async () => {
    const server = await startDevDb();
    const client = new MongoClient(server.url);
    try {
      await client.db("test").collection("c").insertOne({ ok: true });
      const baseline = server.stats().connections.current;
      const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await waitFor(() => server.stats().connections.current === baseline + 1, {
        timeoutMs: 5_000,
        what: "the raw connection",
      });
      await send(raw);
      assert.equal(await closedByServer(raw), true);
      raw.close();
      await waitFor(() => server.stats().connections.current === baseline, {
        timeoutMs: 5_000,
        what: "the raw connection to close",
      });
      assert.equal(await client.db("test").collection("c").countDocuments({ ok: true }), 1);
    } finally {
      await client.close();
      await server.stop();
    }
  });
}

Deno.test("a well-formed OP_MSG with a checksum and a document sequence is answered", async () => {
  const server = await startDevDb();
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    const body = serialize({ insert: "seq", $db: "test" });
    const docs = [serialize({ _id: 1 }), serialize({ _id: 2 })];
    const identifier = new TextEncoder().encode("documents\0");
    const sequenceSize = 4 + identifier.length + docs[0].length + docs[1].length;
    const length = 16 + 4 + 1 + body.length + 1 + sequenceSize + 4;
    const frame = new Uint8Array(length);
    const view = new DataView(frame.buffer);
    frame.set(header(length, 2013));
    view.setUint32(16, 1, true); // checksumPresent
    let at = 20;
    frame[at++] = 0;
    frame.set(body, at);
    at += body.length;
    frame[at++] = 1;
    view.setInt32(at, sequenceSize, true);
    frame.set(identifier, at + 4);
    frame.set(docs[0], at + 4 + identifier.length);
    frame.set(docs[1], at + 4 + identifier.length + docs[0].length);
    await writeAll(raw, frame);
    const reply = new Uint8Array(1024);
    let got = 0;
    while (got < 4 || got < new DataView(reply.buffer).getInt32(0, true)) {
      const n = await raw.read(reply.subarray(got));
      if (n === null) break;
      got += n;
    }
    const decoded = deserialize(reply.subarray(21, got));
    assert.equal(decoded.ok, 1);
    assert.equal(decoded.n, 2);
  } finally {
    raw.close();
    await server.stop();
  }
});
