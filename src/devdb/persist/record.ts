/**
 * The log's record format: `[u32 payload length][u32 CRC-32 of payload][BSON payload]`, little-endian,
 * after an 8-byte file header.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { deserialize, type Document, serialize } from "bson";

/** The first bytes of every log file. */
export const LOG_MAGIC = new TextEncoder().encode("ZDVDBLG1");
const RECORD_HEADER = 8;

/** One record, framed and checksummed. */
export function encodeRecord(record: Document): Uint8Array {
  const payload = serialize(record);
  const framed = new Uint8Array(RECORD_HEADER + payload.length);
  const view = new DataView(framed.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  framed.set(payload, RECORD_HEADER);
  return framed;
}

/** The records of a log file and where the valid part ends. */
export interface DecodedLog {
  records: Document[];
  /** The byte offset just past the last valid record. */
  validEnd: number;
  /** Why decoding stopped early, when it did (a torn or corrupt tail). */
  stopReason?: string;
}

/** Whether `bytes` starts with the log header (an empty file counts as a new log). */
export function hasLogHeader(bytes: Uint8Array): boolean {
  return LOG_MAGIC.every((byte, i) => bytes[i] === byte);
}

/**
 * Decodes records from `bytes` (header included) up to the first one that is incomplete or fails its
 * checksum; everything from there on is a torn tail that the caller truncates away.
 */
export function decodeLog(bytes: Uint8Array): DecodedLog {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Document[] = [];
  let at = LOG_MAGIC.length;
  while (at < bytes.length) {
    if (bytes.length - at < RECORD_HEADER) {
      return { records, validEnd: at, stopReason: "truncated record header" };
    }
    const length = view.getUint32(at, true);
    const end = at + RECORD_HEADER + length;
    if (end > bytes.length) {
      return { records, validEnd: at, stopReason: `record of ${length} bytes is cut short` };
    }
    const payload = bytes.subarray(at + RECORD_HEADER, end);
    if (crc32(payload) !== view.getUint32(at + 4, true)) {
      return { records, validEnd: at, stopReason: "checksum mismatch" };
    }
    try {
      records.push(deserialize(payload));
    } catch (error) {
      return { records, validEnd: at, stopReason: `undecodable record: ${(error as Error).message}` };
    }
    at = end;
  }
  return { records, validEnd: at };
}
