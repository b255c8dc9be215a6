/**
 * The MongoDB wire protocol's message shapes: OP_MSG and the OP_QUERY handshake in, OP_MSG and OP_REPLY out.
 *
 * Hand-written because no npm library exposes a server-side codec; BSON itself is the driver's `bson`.
 *
 * @module
 */
import { calculateObjectSize, deserialize, type Document, serializeWithBufferAndIndex } from "bson";

/** The largest frame accepted, as advertised in `hello.maxMessageSizeBytes`. */
export const MAX_MESSAGE_SIZE = 48_000_000;
/** The largest document, as advertised in `hello.maxBsonObjectSize`. */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

/** Opcodes this server understands. */
export const OpCode = { REPLY: 1, QUERY: 2004, MSG: 2013 } as const;

const FLAG_CHECKSUM = 1 << 0;
const FLAG_MORE_TO_COME = 1 << 1;
const FLAG_EXHAUST_ALLOWED = 1 << 16;
// Bits 0-15 are "required": a receiver must reject a message with one it does not know.
const KNOWN_REQUIRED_FLAGS = FLAG_CHECKSUM | FLAG_MORE_TO_COME;

/** A frame the protocol forbids; the connection that sent it is closed. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** A decoded request: the command body plus what is needed to answer it. */
export interface Request {
  /** The requestID the reply's responseTo must echo. */
  requestId: number;
  /** OP_MSG or OP_QUERY. */
  opCode: typeof OpCode.MSG | typeof OpCode.QUERY;
  /** The command, document sequences folded in as arrays. */
  body: Document;
  /** OP_MSG moreToCome: the client expects no reply. */
  moreToCome: boolean;
  /** OP_MSG exhaustAllowed: the client accepts a stream of replies (the awaitable hello). */
  exhaustAllowed?: boolean;
  /** For OP_QUERY: the namespace queried, e.g. `admin.$cmd`. */
  collectionName?: string;
}

const BSON_OPTIONS = { promoteLongs: true, promoteValues: true, promoteBuffers: false } as const;

/** Decodes one BSON document of the given bounds, failing with a ProtocolError on invalid BSON. */
export function decodeDocument(bytes: Uint8Array, start: number, end: number): Document {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (end - start < 5) throw new ProtocolError("BSON document too short");
  const size = view.getInt32(start, true);
  if (size < 5 || start + size > end) throw new ProtocolError(`BSON document size ${size} out of bounds`);
  try {
    return deserialize(bytes.subarray(start, start + size), BSON_OPTIONS);
  } catch (error) {
    throw new ProtocolError(`invalid BSON: ${(error as Error).message}`);
  }
}

function readCString(bytes: Uint8Array, start: number, end: number): [string, number] {
  const nul = bytes.indexOf(0, start);
  if (nul < 0 || nul >= end) throw new ProtocolError("unterminated C string");
  return [new TextDecoder().decode(bytes.subarray(start, nul)), nul + 1];
}

/** Decodes a whole frame (header included) into a request; throws ProtocolError if it is malformed. */
export function decodeRequest(frame: Uint8Array): Request {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const requestId = view.getInt32(4, true);
  const opCode = view.getInt32(12, true);
  if (opCode === OpCode.MSG) return decodeOpMsg(frame, view, requestId);
  if (opCode === OpCode.QUERY) return decodeOpQuery(frame, requestId);
  throw new ProtocolError(`unsupported opcode ${opCode}`);
}

function decodeOpMsg(frame: Uint8Array, view: DataView, requestId: number): Request {
  if (frame.length < 21) throw new ProtocolError("OP_MSG too short");
  const flags = view.getUint32(16, true);
  const unknown = flags & 0xffff & ~KNOWN_REQUIRED_FLAGS;
  if (unknown) throw new ProtocolError(`OP_MSG has unknown required flag bits ${unknown}`);
  const end = flags & FLAG_CHECKSUM ? frame.length - 4 : frame.length;
  let body: Document | undefined;
  const sequences: [string, Document[]][] = [];
  let offset = 20;
  while (offset < end) {
    const kind = frame[offset++];
    if (kind === 0) {
      if (body) throw new ProtocolError("OP_MSG has more than one body section");
      body = decodeDocument(frame, offset, end);
      offset += view.getInt32(offset, true);
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError("truncated document sequence");
      const size = view.getInt32(offset, true);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) {
        throw new ProtocolError(`document sequence size ${size} out of bounds`);
      }
      const [identifier, docsStart] = readCString(frame, offset + 4, sectionEnd);
      const docs: Document[] = [];
      for (let at = docsStart; at < sectionEnd; at += view.getInt32(at, true)) {
        docs.push(decodeDocument(frame, at, sectionEnd));
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new ProtocolError("OP_MSG has no body section");
  for (const [identifier, docs] of sequences) body[identifier] = docs;
  return {
    requestId,
    opCode: OpCode.MSG,
    body,
    moreToCome: (flags & FLAG_MORE_TO_COME) !== 0,
    exhaustAllowed: (flags & FLAG_EXHAUST_ALLOWED) !== 0,
  };
}

function decodeOpQuery(frame: Uint8Array, requestId: number): Request {
  if (frame.length < 20 + 1 + 8 + 5) throw new ProtocolError("OP_QUERY too short");
  const [collectionName, afterName] = readCString(frame, 20, frame.length);
  // numberToSkip and numberToReturn (8 bytes) mean nothing for a command.
  const queryStart = afterName + 8;
  let body = decodeDocument(frame, queryStart, frame.length);
  // Legacy drivers wrap the command as { $query: {...}, $readPreference: ... }.
  if (body.$query && typeof body.$query === "object") body = body.$query as Document;
  return { requestId, opCode: OpCode.QUERY, body, moreToCome: false, collectionName };
}

let nextResponseId = 1;

function writeHeader(view: DataView, length: number, responseTo: number, opCode: number): void {
  view.setInt32(0, length, true);
  view.setInt32(4, nextResponseId++ & 0x7fffffff, true);
  view.setInt32(8, responseTo, true);
  view.setInt32(12, opCode, true);
}

/**
 * Encodes a reply in the shape the request came in: OP_MSG for OP_MSG, OP_REPLY for OP_QUERY. With
 * `moreToCome` (OP_MSG only) the client is told more replies to the same request follow.
 */
export function encodeReply(request: Request, reply: Document, moreToCome = false): Uint8Array {
  const size = calculateObjectSize(reply);
  if (request.opCode === OpCode.MSG) {
    const frame = new Uint8Array(21 + size);
    const view = new DataView(frame.buffer);
    writeHeader(view, frame.length, request.requestId, OpCode.MSG);
    if (moreToCome) view.setUint32(16, FLAG_MORE_TO_COME, true);
    // byte 20 is section kind 0.
    serializeWithBufferAndIndex(reply, frame, { index: 21 });
    return frame;
  }
  const frame = new Uint8Array(36 + size);
  const view = new DataView(frame.buffer);
  writeHeader(view, frame.length, request.requestId, OpCode.REPLY);
  // responseFlags 0, cursorID 0, startingFrom 0, then numberReturned 1.
  view.setInt32(32, 1, true);
  serializeWithBufferAndIndex(reply, frame, { index: 36 });
  return frame;
}
