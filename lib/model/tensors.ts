// A checkpoint's tensors read on demand: the safetensors headers of every shard are parsed
// up front (names, dtypes, shapes, where each tensor's bytes lie), and a tensor's bytes are
// read only when a converter asks for them — from a file on disk, a File in the Origin
// Private File System, or bytes in memory alike. A converter reads one weight, converts it,
// writes it and drops it, so a checkpoint is never in memory twice (nor once, whole).
import { fromFloat16 } from '../io/float16';
import { SafetensorsError, type TensorInfo, parameterCounts, readSafetensorsHeader, safetensorsHeaderLength } from './safetensors';

/** A file read by byte ranges. */
export interface ByteFile {
  name: string;
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Bytes already in memory, as a ByteFile (tests, small checkpoints). */
export function memoryFile(name: string, bytes: Uint8Array): ByteFile {
  return { name, size: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

/** What a Blob offers (a File from a picked folder or the Origin Private File System), typed without the DOM. */
export interface BlobLike {
  size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

export function blobFile(name: string, blob: BlobLike): ByteFile {
  return { name, size: blob.size, read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()) };
}

interface Entry extends TensorInfo {
  file: ByteFile;
  /** Where the tensor's bytes start in its file. */
  start: number;
  length: number;
}

const ELEMENT_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Elements widened per step when a tensor is read in row blocks. */
const BLOCK_ELEMENTS = 1 << 22;

export class TensorSource {
  private constructor(private entries: Map<string, Entry>) {}

  /** Reads the headers of every shard (a few KB each). */
  static async open(files: ByteFile[]): Promise<TensorSource> {
    const entries = new Map<string, Entry>();
    for (const file of files) {
      if (file.size < 8) throw new SafetensorsError(`${file.name} is truncated (under 8 bytes)`);
      const headerLength = safetensorsHeaderLength(await file.read(0, 8));
      if (8 + headerLength > file.size) throw new SafetensorsError(`${file.name}: a header of ${headerLength} bytes does not fit a ${file.size}-byte file`);
      const { header } = readSafetensorsHeader(await file.read(0, 8 + headerLength));
      for (const [name, info] of Object.entries(header)) {
        const [begin, end] = info.data_offsets;
        const start = 8 + headerLength + begin;
        if (start + (end - begin) > file.size) throw new SafetensorsError(`tensor ${name} runs past the end of ${file.name} (truncated download?)`);
        const count = info.shape.reduce((a, b) => a * b, 1);
        const size = ELEMENT_BYTES[info.dtype];
        if (size && count * size !== end - begin)
          throw new SafetensorsError(`tensor ${name} in ${file.name}: ${end - begin} bytes for ${count} ${info.dtype} values`);
        entries.set(name, { ...info, file, start, length: end - begin });
      }
    }
    return new TensorSource(entries);
  }

  /** Whole safetensors files in memory (tests and the setup step's small models). */
  static fromBytes(shards: Uint8Array | Uint8Array[]): Promise<TensorSource> {
    return TensorSource.open((Array.isArray(shards) ? shards : [shards]).map((bytes, i) => memoryFile(`shard ${i}`, bytes)));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  shape(name: string): number[] | undefined {
    return this.entries.get(name)?.shape;
  }

  dtype(name: string): string | undefined {
    return this.entries.get(name)?.dtype;
  }

  /** Parameters and their dtypes, as stored. */
  counts(): { parameters: number; dtypes: Record<string, number> } {
    return parameterCounts(Object.fromEntries(this.entries));
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new SafetensorsError(`the checkpoint has no tensor "${name}"`);
    return e;
  }

  /** A tensor as float32 (F16 and BF16 widened exactly). */
  async float32(name: string): Promise<Float32Array> {
    const e = this.entry(name);
    return this.rows(name, 0, e.shape[0] ?? 1);
  }

  /** Rows [start, start + count) of a tensor (along its first axis) as float32. */
  async rows(name: string, start: number, count: number): Promise<Float32Array> {
    const e = this.entry(name);
    const rowElements = e.shape.slice(1).reduce((a, b) => a * b, 1);
    const size = ELEMENT_BYTES[e.dtype];
    if (!size || !['F32', 'F16', 'BF16', 'F64'].includes(e.dtype))
      throw new SafetensorsError(`tensor ${name} has dtype ${e.dtype}, not a float type QKViz reads`);
    const raw = await e.file.read(e.start + start * rowElements * size, count * rowElements * size);
    return widen(name, e.dtype, raw, count * rowElements);
  }

  /** A tensor in blocks of whole rows, as float32, for tables too large to widen at once (an embedding). */
  async *rowBlocks(name: string): AsyncGenerator<{ start: number; values: Float32Array }> {
    const e = this.entry(name);
    const rows = e.shape[0] ?? 1;
    const rowElements = e.shape.slice(1).reduce((a, b) => a * b, 1);
    const step = Math.max(1, Math.floor(BLOCK_ELEMENTS / Math.max(1, rowElements)));
    for (let start = 0; start < rows; start += step) {
      const count = Math.min(step, rows - start);
      yield { start, values: await this.rows(name, start, count) };
    }
  }
}

function widen(name: string, dtype: string, raw: Uint8Array, count: number): Float32Array {
  if (dtype === 'F32') {
    if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, count);
    return new Float32Array(raw.slice().buffer, 0, count);
  }
  if (dtype === 'F16') {
    return fromFloat16(raw.byteOffset % 2 === 0 ? new Uint16Array(raw.buffer, raw.byteOffset, count) : new Uint16Array(raw.slice().buffer, 0, count));
  }
  const out = new Float32Array(count);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    const halves = raw.byteOffset % 2 === 0 ? new Uint16Array(raw.buffer, raw.byteOffset, count) : new Uint16Array(raw.slice().buffer, 0, count);
    for (let i = 0; i < count; i++) bits[i] = halves[i] << 16;
    return out;
  }
  if (dtype === 'F64') {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, true);
    return out;
  }
  throw new SafetensorsError(`tensor ${name} has unsupported dtype ${dtype}`);
}
