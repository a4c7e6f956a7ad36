// A minimal protocol-buffers writer: just the wire types ONNX's ModelProto needs
// (varint, length-delimited, fixed32). Hand-written so the ONNX graph can be built
// in Node and in a browser worker alike, without a protobuf runtime or schema compiler.

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;

const textEncoder = new TextEncoder();

/** Bytes made only when the message is written out (a model's weights, read one at a time). */
export interface DeferredChunk {
  size: number;
  produce: () => Uint8Array | Promise<Uint8Array>;
}

type Chunk = Uint8Array | DeferredChunk;

/**
 * Accumulates encoded fields; `finish()` joins them into one buffer, `pieces()` yields them
 * one at a time (producing deferred bytes as they are reached), for messages larger than
 * anything should hold at once.
 */
export class ProtoWriter {
  private chunks: Chunk[] = [];
  private scratch: number[] = [];
  private length = 0;

  get byteLength(): number {
    return this.length + this.scratch.length;
  }

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.length += this.scratch.length;
    this.scratch = [];
  }

  private pushVarint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    // Fast path for small non-negative numbers (nearly every field we write).
    if (v < 0x80n) {
      this.scratch.push(Number(v));
      return;
    }
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.pushVarint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.pushVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.pushVarint(value.byteLength);
    this.flushScratch();
    this.chunks.push(value);
    this.length += value.byteLength;
    return this;
  }

  /** A length-delimited field whose bytes (of a size known now) are produced by `pieces()`. */
  deferredBytes(field: number, size: number, value: Uint8Array | (() => Uint8Array | Promise<Uint8Array>)): this {
    if (value instanceof Uint8Array) return this.bytes(field, value);
    this.tag(field, WIRE_BYTES);
    this.pushVarint(size);
    this.flushScratch();
    this.chunks.push({ size, produce: value });
    this.length += size;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** Embeds a sub-message (already encoded) as a length-delimited field. */
  message(field: number, sub: ProtoWriter): this {
    this.tag(field, WIRE_BYTES);
    this.pushVarint(sub.byteLength);
    sub.flushScratch();
    this.flushScratch();
    for (const c of sub.chunks) this.chunks.push(c);
    this.length += sub.length;
    return this;
  }

  /** Packed repeated int64 (proto3 default for repeated scalars). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.pushVarint(v);
    inner.flushScratch();
    return this.message(field, inner);
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      if (!(c instanceof Uint8Array)) throw new Error('finish: the message has deferred bytes; write it with pieces()');
      out.set(c, offset);
      offset += c.byteLength;
    }
    return out;
  }

  /** The encoded message in order, small fields joined up to `group` bytes, deferred bytes produced one at a time. */
  async *pieces(group = 1 << 20): AsyncGenerator<Uint8Array> {
    this.flushScratch();
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = () => {
      const out = new Uint8Array(pendingBytes);
      let offset = 0;
      for (const p of pending) {
        out.set(p, offset);
        offset += p.byteLength;
      }
      pending = [];
      pendingBytes = 0;
      return out;
    };
    for (const c of this.chunks) {
      if (c instanceof Uint8Array && c.byteLength < group) {
        pending.push(c);
        pendingBytes += c.byteLength;
        if (pendingBytes >= group) yield flush();
        continue;
      }
      if (pendingBytes) yield flush();
      if (c instanceof Uint8Array) {
        yield c;
        continue;
      }
      const bytes = await c.produce();
      if (bytes.byteLength !== c.size) throw new Error(`deferred field: made ${bytes.byteLength} bytes, expected ${c.size}`);
      yield bytes;
    }
    if (pendingBytes) yield flush();
  }
}
