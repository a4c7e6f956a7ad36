// Writes a safetensors file in memory, for fixtures: 8-byte little-endian header length,
// JSON header with byte offsets, then the raw data. Independent of lib's reader.

type Dtype = 'F32' | 'F16' | 'BF16';

/** A float's IEEE half bits, by arithmetic (normal range; rounding to nearest). */
function half(v: number): number {
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  let e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e += 1;
  }
  if (e < -14) return sign | Math.round(a / 2 ** -24);
  return sign | ((e + 15) << 10) | m;
}

function encode(data: Float32Array, dtype: Dtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint16Array(data.length);
  const bits = new Uint32Array(Float32Array.from(data).buffer);
  for (let i = 0; i < data.length; i++) out[i] = dtype === 'BF16' ? bits[i] >>> 16 : half(data[i]);
  return new Uint8Array(out.buffer);
}

export function writeSafetensors(tensors: Record<string, { shape: number[]; data: Float32Array; dtype?: Dtype }>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const encoded = Object.values(tensors).map((t) => encode(t.data, t.dtype ?? 'F32'));
  let offset = 0;
  Object.entries(tensors).forEach(([name, t], i) => {
    header[name] = { dtype: t.dtype ?? 'F32', shape: t.shape, data_offsets: [offset, offset + encoded[i].byteLength] };
    offset += encoded[i].byteLength;
  });
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as real files do.
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const bytes of encoded) {
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  return out;
}

export { seededRandom } from '../../lib/util/random';
