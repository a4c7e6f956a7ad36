// Reads a .safetensors file (8-byte header length, JSON header, raw little-endian data)
// into named Float32Array views, so converters can work on the weights without Python.
import { halfToFloat } from '../io/float16';

export interface SafeTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

/** Upper bound on the JSON header; real checkpoints use a few tens of KB. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends Error {}

export interface TensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The header of a safetensors file, from its first 8 + headerLength bytes (or the whole file). */
export function readSafetensorsHeader(bytes: Uint8Array): { headerLength: number; header: Record<string, TensorInfo> } {
  if (bytes.byteLength < 8) throw new SafetensorsError('safetensors file is truncated (under 8 bytes)');
  const headerLength = safetensorsHeaderLength(bytes);
  if (8 + headerLength > bytes.byteLength) throw new SafetensorsError(`safetensors header length ${headerLength} does not fit a ${bytes.byteLength}-byte file`);
  let header: Record<string, TensorInfo>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new SafetensorsError('safetensors header is not valid JSON (corrupt file?)');
  }
  delete (header as Record<string, unknown>).__metadata__;
  return { headerLength, header };
}

/** The header length a file's first 8 bytes declare; refuses lengths no real file has. */
export function safetensorsHeaderLength(first8: Uint8Array): number {
  const headerLength = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES) throw new SafetensorsError(`safetensors header length ${headerLength} is implausible (not a safetensors file?)`);
  return headerLength;
}

/** Weights per dtype, from a header (integer buffers such as position_ids are not parameters). */
export function parameterCounts(header: Record<string, TensorInfo>): { parameters: number; dtypes: Record<string, number> } {
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  for (const info of Object.values(header)) {
    if (!FLOAT_DTYPES.has(info.dtype)) continue;
    const count = info.shape.reduce((a, b) => a * b, 1);
    parameters += count;
    dtypes[info.dtype] = (dtypes[info.dtype] ?? 0) + count;
  }
  return { parameters, dtypes };
}

/** Parses a safetensors buffer. Float32 tensors are viewed, F16/BF16 are widened to F32. */
export function readSafetensors(bytes: Uint8Array): Map<string, SafeTensor> {
  const { headerLength, header } = readSafetensorsHeader(bytes);
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, SafeTensor>();
  for (const [name, info] of Object.entries(header)) {
    const [begin, end] = info.data_offsets;
    if (dataStart + end > bytes.byteLength) {
      throw new SafetensorsError(`tensor ${name} runs past the end of the file (truncated download?)`);
    }
    const count = info.shape.reduce((a, b) => a * b, 1);
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    tensors.set(name, { dtype: info.dtype, shape: info.shape, data: toFloat32(name, info.dtype, raw, count) });
  }
  return tensors;
}

function toFloat32(name: string, dtype: string, raw: Uint8Array, count: number): Float32Array {
  if (dtype === 'F32') {
    if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, count);
    return new Float32Array(raw.slice().buffer, 0, count);
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
    return out;
  }
  if (dtype === 'BF16') {
    const tmp = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      tmp.setUint32(0, dv.getUint16(2 * i, true) << 16, true);
      out[i] = tmp.getFloat32(0, true);
    }
    return out;
  }
  if (dtype === 'I64' || dtype === 'I32') return out; // index buffers such as position_ids: unused
  throw new SafetensorsError(`tensor ${name} has unsupported dtype ${dtype}`);
}
