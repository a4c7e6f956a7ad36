// The .qkviz bundle container: one file holding a run's JSON description and its typed arrays,
// each checksummed, so the page can open a run computed elsewhere and tell a truncated,
// corrupted, foreign or newer file from a good one. Layout (little-endian):
//
//   bytes 0–7    magic "QKVZBNDL"
//   bytes 8–11   format version (u32, BUNDLE_VERSION)
//   bytes 12–15  header length H (u32)
//   bytes 16–19  CRC-32 of the header
//   bytes 20–23  0 (reserved)
//   bytes 24…    the header: UTF-8 JSON { meta, arrays: [{ name, dtype, shape, offset, byteLength, crc32 | chunks }] }
//   then         each array's bytes at 8-byte-aligned offsets from the end of the header, padded with 0
//
// An array is checksummed whole (crc32) or, format 2, in equal chunks along its first axes
// (`chunks`: one CRC-32 per chunk — a head's queries or keys — so one head can be read and
// checked without reading the rest).
//
// Non-finite numbers in `meta` (a figure of a head with no valid pairs) are written as
// {"$number": "NaN" | "Infinity" | "-Infinity"} and restored on reading.

export const BUNDLE_MAGIC = 'QKVZBNDL';
/** The format this code writes; it reads every version from OLDEST_READABLE_VERSION up. */
export const BUNDLE_VERSION = 2;
export const OLDEST_READABLE_VERSION = 1;
const PREAMBLE = 24;

export type BundleDtype = 'float32' | 'float16' | 'int32' | 'uint8';
export type BundleTyped = Float32Array | Uint16Array | Int32Array | Uint8Array;

export interface BundleArray {
  name: string;
  dtype: BundleDtype;
  shape: number[];
  data: BundleTyped;
}

export interface BundleArrayInfo {
  name: string;
  dtype: BundleDtype;
  shape: number[];
  offset: number;
  byteLength: number;
  /** The whole array's CRC-32, or… */
  crc32?: number;
  /** …one per equal chunk of it. */
  chunks?: number[];
}

/** An array to write without holding it whole: its size, its checksums and where its bytes come from (the caller's). */
export interface BundleArraySpec<Source> {
  name: string;
  dtype: BundleDtype;
  shape: number[];
  byteLength: number;
  crc32?: number;
  chunks?: number[];
  source: Source;
}

/** A bundle laid out before any array is read: the header's bytes, then each array's bytes at its offset (zeros between). */
export interface BundlePlan<Source> {
  head: Uint8Array;
  pieces: { at: number; byteLength: number; source: Source }[];
  size: number;
}

import { crc32 } from './crc32';
import { jsonReplacer, jsonReviver } from './json';

export type BundleErrorCode = 'not-a-bundle' | 'version' | 'truncated' | 'corrupt' | 'oversized';

export class BundleError extends Error {
  constructor(
    readonly code: BundleErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export { crc32 } from './crc32';

const BYTES: Record<BundleDtype, number> = { float32: 4, float16: 2, int32: 4, uint8: 1 };
const align8 = (n: number) => Math.ceil(n / 8) * 8;
const bytesOf = (a: BundleTyped) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Lays out a bundle from array specs: the caller writes `head`, then each piece's bytes at its offset. */
export function planBundle<Source>(meta: object, arrays: BundleArraySpec<Source>[], version = BUNDLE_VERSION): BundlePlan<Source> {
  const infos: BundleArrayInfo[] = [];
  let offset = 0;
  for (const a of arrays) {
    const count = a.shape.reduce((x, y) => x * y, 1);
    if (count * BYTES[a.dtype] !== a.byteLength)
      throw new Error(`bundle array ${a.name}: shape ${a.shape.join('×')} holds ${count} values, not ${a.byteLength / BYTES[a.dtype]}`);
    infos.push({ name: a.name, dtype: a.dtype, shape: a.shape, offset, byteLength: a.byteLength, ...(a.chunks ? { chunks: a.chunks } : { crc32: a.crc32 }) });
    offset = align8(offset + a.byteLength);
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta, arrays: infos }, jsonReplacer));
  const dataStart = align8(PREAMBLE + header.byteLength);
  const head = new Uint8Array(dataStart);
  head.set(new TextEncoder().encode(BUNDLE_MAGIC), 0);
  const view = new DataView(head.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, header.byteLength, true);
  view.setUint32(16, crc32(header), true);
  head.set(header, PREAMBLE);
  return { head, pieces: arrays.map((a, i) => ({ at: dataStart + infos[i].offset, byteLength: a.byteLength, source: a.source })), size: dataStart + offset };
}

/** CRC-32 of each of `chunks` equal parts of `bytes`. */
export function chunkChecksums(bytes: Uint8Array, chunks: number): number[] {
  const size = bytes.length / chunks;
  return Array.from({ length: chunks }, (_, c) => crc32(bytes.subarray(c * size, (c + 1) * size)));
}

/** A whole bundle in memory; arrays given `chunks` are checksummed per chunk. */
export function writeBundle(meta: object, arrays: (BundleArray & { chunks?: number })[], version = BUNDLE_VERSION): Uint8Array {
  const plan = planBundle(
    meta,
    arrays.map((a) => {
      const bytes = bytesOf(a.data);
      return {
        name: a.name,
        dtype: a.dtype,
        shape: a.shape,
        byteLength: bytes.byteLength,
        ...(a.chunks ? { chunks: chunkChecksums(bytes, a.chunks) } : { crc32: crc32(bytes) }),
        source: bytes,
      };
    }),
    version,
  );
  const out = new Uint8Array(plan.size);
  out.set(plan.head, 0);
  for (const p of plan.pieces) out.set(p.source, p.at);
  return out;
}

export interface BundleContents<M> {
  version: number;
  meta: M;
  arrays: Map<string, BundleArray>;
  infos: BundleArrayInfo[];
}

/** The header alone: cheap, to say what a bundle holds (and refuse it) before its arrays are checked. */
export function readBundleHeader<M>(bytes: Uint8Array): BundleHeader<M> {
  if (bytes.byteLength < PREAMBLE || new TextDecoder().decode(bytes.subarray(0, 8)) !== BUNDLE_MAGIC) {
    throw new BundleError('not-a-bundle', 'This is not a QKViz bundle (.qkviz): it does not start with the bundle signature.');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version < OLDEST_READABLE_VERSION || version > BUNDLE_VERSION) {
    throw new BundleError(
      'version',
      version > BUNDLE_VERSION
        ? `This bundle is format ${version}, made by a newer QKViz; this page reads format ${BUNDLE_VERSION}. Update QKViz, or write the bundle again with this version.`
        : `This bundle is format ${version}, which this QKViz does not read (it reads formats ${OLDEST_READABLE_VERSION} to ${BUNDLE_VERSION}).`,
    );
  }
  const length = view.getUint32(12, true);
  if (PREAMBLE + length > bytes.byteLength)
    throw new BundleError('truncated', `This bundle is truncated: its header needs ${PREAMBLE + length} bytes, the file has ${bytes.byteLength}.`);
  const header = bytes.subarray(PREAMBLE, PREAMBLE + length);
  if (crc32(header) !== view.getUint32(16, true)) throw new BundleError('corrupt', 'This bundle is corrupt: its header does not match its checksum.');
  let parsed: { meta: M; arrays: BundleArrayInfo[] };
  try {
    parsed = JSON.parse(new TextDecoder().decode(header), jsonReviver);
  } catch {
    throw new BundleError('corrupt', 'This bundle is corrupt: its header is not valid JSON.');
  }
  return { version, meta: parsed.meta, infos: parsed.arrays, dataStart: align8(PREAMBLE + length) };
}

function truncated(info: BundleArrayInfo, end: number, size: number): BundleError {
  return new BundleError(
    'truncated',
    `This bundle is truncated: ${info.name} runs to byte ${end.toLocaleString('en-US')}, the file has ${size.toLocaleString('en-US')} (an interrupted download or copy?).`,
  );
}

/** One array from its bytes, checked against its checksum; a view of `raw` where aligned. */
function decodeArray(info: BundleArrayInfo, raw: Uint8Array): BundleArray {
  const good = info.chunks ? chunkChecksums(raw, info.chunks.length).every((c, i) => c === info.chunks![i]) : crc32(raw) === info.crc32;
  if (!good) throw new BundleError('corrupt', `This bundle is corrupt: ${info.name} does not match its checksum (a changed byte).`);
  const count = info.byteLength / BYTES[info.dtype];
  const aligned = raw.byteOffset % BYTES[info.dtype] === 0;
  const buffer = aligned ? raw.buffer : raw.slice().buffer;
  const at = aligned ? raw.byteOffset : 0;
  const data =
    info.dtype === 'float32'
      ? new Float32Array(buffer, at, count)
      : info.dtype === 'float16'
        ? new Uint16Array(buffer, at, count)
        : info.dtype === 'uint8'
          ? new Uint8Array(buffer, at, count)
          : new Int32Array(buffer, at, count);
  return { name: info.name, dtype: info.dtype, shape: info.shape, data };
}

/** Reads and checks every array (bounds, then checksum); arrays are views into `bytes` where aligned. */
export function readBundle<M>(bytes: Uint8Array): BundleContents<M> {
  const { version, meta, infos, dataStart } = readBundleHeader<M>(bytes);
  const arrays = new Map<string, BundleArray>();
  for (const info of infos) {
    const start = dataStart + info.offset;
    const end = start + info.byteLength;
    if (end > bytes.byteLength) throw truncated(info, end, bytes.byteLength);
    arrays.set(info.name, decodeArray(info, bytes.subarray(start, end)));
  }
  return { version, meta, arrays, infos };
}

/** A file read by byte ranges (a File's slices in the page, a file descriptor in Node). */
export interface ByteSource {
  size: number;
  read(start: number, end: number): Promise<Uint8Array>;
  /** A range as the platform's file object (a Blob slice in the page), to hand on without reading it. */
  slice?(start: number, end: number): unknown;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.byteLength, read: async (start, end) => bytes.subarray(start, end) };
}

export interface BundleHeader<M> {
  version: number;
  meta: M;
  infos: BundleArrayInfo[];
  dataStart: number;
}

/** A source's header, read and checked once (two small reads: the preamble, then the header). */
export async function readSourceHeader<M>(source: ByteSource): Promise<BundleHeader<M>> {
  const preamble = await source.read(0, Math.min(source.size, PREAMBLE));
  const length = preamble.byteLength >= PREAMBLE ? new DataView(preamble.buffer, preamble.byteOffset, PREAMBLE).getUint32(12, true) : 0;
  return readBundleHeader<M>(await source.read(0, Math.min(source.size, PREAMBLE + length)));
}

/** Only the arrays `wanted` picks, each read by its own range: a part of a file larger than memory. */
export async function readSourceArrays<M>(
  source: ByteSource,
  header: BundleHeader<M>,
  wanted: (info: BundleArrayInfo) => boolean,
): Promise<Map<string, BundleArray>> {
  const arrays = new Map<string, BundleArray>();
  for (const info of header.infos) {
    if (!wanted(info)) continue;
    const start = header.dataStart + info.offset;
    const end = start + info.byteLength;
    if (end > source.size) throw truncated(info, end, source.size);
    arrays.set(info.name, decodeArray(info, await source.read(start, end)));
  }
  return arrays;
}
