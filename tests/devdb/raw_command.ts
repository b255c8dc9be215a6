/**
 * One OP_MSG command over a fresh socket, for what the driver will not send as asked (it adds
 * `$readPreference` on direct connections, for one).
 *
 * @module
 */
import { deserialize, type Document, serialize } from "bson";

/** Sends `body` to 127.0.0.1:`port` and returns the reply document; the socket is closed afterwards. */
export async function rawCommand(port: number, body: Document): Promise<Document> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bson = serialize(body);
    const frame = new Uint8Array(21 + bson.length);
    const view = new DataView(frame.buffer);
    view.setInt32(0, frame.length, true);
    view.setInt32(4, 1, true);
    view.setInt32(12, 2013, true);
    frame.set(bson, 21);
    for (let written = 0; written < frame.length;) written += await conn.write(frame.subarray(written));
    const chunks: Uint8Array[] = [];
    let length = -1;
    let received = 0;
    while (length < 0 || received < length) {
      const buffer = new Uint8Array(64 * 1024);
      const n = await conn.read(buffer);
      if (n === null) throw new Error("the server closed the socket before replying");
      chunks.push(buffer.subarray(0, n));
      received += n;
      if (length < 0 && received >= 4) {
        const all = concat(chunks);
        length = new DataView(all.buffer, all.byteOffset).getInt32(0, true);
      }
    }
    return deserialize(concat(chunks).subarray(21, length));
  } finally {
    conn.close();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
