// A minimal protocol-buffers writer: just the wire types ONNX's ModelProto needs
// (varint, length-delimited, fixed32). Hand-written so the ONNX graph can be built
// in Node and in a browser worker alike, without a protobuf runtime or schema compiler.

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;

const textEncoder = new TextEncoder();

/** Accumulates encoded fields; `finish()` joins them into one buffer. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
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
      out.set(c, offset);
      offset += c.byteLength;
    }
    return out;
  }
}
