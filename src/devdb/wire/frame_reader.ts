/**
 * Reads whole wire-protocol frames from a socket through one buffer per connection.
 *
 * @module
 */
import { MAX_MESSAGE_SIZE, ProtocolError } from "./protocol.ts";

const HEADER_SIZE = 16;
const INITIAL_BUFFER = 64 * 1024;

/** Something frames can be read from (a `Deno.Conn`). */
export interface ByteSource {
  read(into: Uint8Array): Promise<number | null>;
}

/** Splits a byte stream into frames; each frame it returns is a copy the caller may keep. */
export class FrameReader {
  #source: ByteSource;
  #buffer = new Uint8Array(INITIAL_BUFFER);
  #start = 0;
  #end = 0;

  constructor(source: ByteSource) {
    this.#source = source;
  }

  /**
   * The next frame, header included, or `null` at a clean end of stream.
   * Throws ProtocolError on a bad length or a stream that ends inside a frame.
   */
  async next(): Promise<Uint8Array | null> {
    if (!(await this.#fill(4))) return null;
    const view = new DataView(this.#buffer.buffer, this.#start, 4);
    const length = view.getInt32(0, true);
    if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
      throw new ProtocolError(`bad message length ${length}`);
    }
    if (!(await this.#fill(length))) throw new ProtocolError(`stream ended inside a ${length}-byte frame`);
    const frame = this.#buffer.slice(this.#start, this.#start + length);
    this.#start += length;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // One huge frame should not pin a huge buffer for the connection's lifetime.
      if (this.#buffer.length > 4 * INITIAL_BUFFER) this.#buffer = new Uint8Array(INITIAL_BUFFER);
    }
    return frame;
  }

  /** Buffers at least `count` bytes; false if the stream ended first (an error unless nothing was buffered). */
  async #fill(count: number): Promise<boolean> {
    if (this.#end - this.#start >= count) return true;
    this.#makeRoom(count);
    while (this.#end - this.#start < count) {
      const read = await this.#source.read(this.#buffer.subarray(this.#end));
      if (read === null) {
        if (this.#end === this.#start) return false;
        throw new ProtocolError(`stream ended after ${this.#end - this.#start} bytes of a frame`);
      }
      this.#end += read;
    }
    return true;
  }

  #makeRoom(count: number): void {
    if (this.#start + count <= this.#buffer.length) return;
    if (count <= this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      const larger = new Uint8Array(Math.max(count, this.#buffer.length * 2));
      larger.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = larger;
    }
    this.#end -= this.#start;
    this.#start = 0;
  }
}
