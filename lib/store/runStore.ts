// A run's queries and keys on disk, one folder a run: the vectors per head ([cell][token][dim],
// float32 or float16 by a setting), the model's attention on the sampled sentences, and
// run.json — the tokens, the shape, a CRC-32 per head and whatever the caller records with the
// run (its analysis, its model card). Vectors are written window by window as the extraction
// goes (each head's rows of a window in one piece, in corpus order, so each head's checksum
// runs along); run.json is written last, so a run cut off before it (tab closed, quota full,
// crash) has none and never opens as if it were whole. Analysis, projection and the views read
// one head, or one sentence of one head, at a time.
import type { AttentionSpec } from '../data/attention';
import {
  type AttentionSample,
  type ImageLayout,
  type ModelShape,
  type QueryKeyData,
  type RotaryVectors,
  type TokenizedSentence,
  corpusLayout,
  kvHeadsOf,
} from '../data/layout';
import { CRC32_START, crc32Final, crc32Update } from '../io/crc32';
import { fromFloat16, toFloat16 } from '../io/float16';
import { jsonReplacer, jsonReviver } from '../io/json';
import type { ReadableStoreFile, StoreFolder, StoreRoot, WritableStoreFile } from './files';

export type VectorDtype = 'float32' | 'float16';
export const STORE_FORMAT = 'qkviz-run-store';
export const STORE_VERSION = 1;
export const RECORD_FILE = 'run.json';

/** The vector files of a run: the vectors, and a run of unrotated ones' rotated vectors. */
export type VectorFile = 'queries' | 'keys' | 'rotated-queries' | 'rotated-keys' | 'values';
const SAMPLE_FILE = 'attention-sample';
/** An image run's pictures as the model saw them, uint8 [image][height][width][3]. */
export const PICTURES_FILE = 'pictures';
/** Each head's value norms ‖f_h(x_j)‖, float32 [cell][token], checksummed per cell like the vectors. */
export const VALUE_NORMS_FILE = 'value-norms';
/** Every per-cell file a run may hold. */
export type CellFile = VectorFile | typeof VALUE_NORMS_FILE;
/** Values a row of a cell file holds, and whether they are kept in the run's precision (value norms: one, always float32). */
const rowWidth = (name: CellFile, headDim: number) => (name === VALUE_NORMS_FILE ? 1 : headDim);
const inRunPrecision = (name: CellFile, dtype: VectorDtype) => dtype === 'float16' && name !== VALUE_NORMS_FILE;

export interface StoredShape extends ModelShape {
  model: string;
  kvHeads: number;
  causal: boolean;
  rotary?: RotaryVectors;
}

/** A run's shape as its record keeps it (a run's data carries the same fields, some optional). */
export function storedShapeOf(data: ModelShape & { model: string; kvHeads?: number; causal?: boolean; rotary?: RotaryVectors }): StoredShape {
  return {
    model: data.model,
    layers: data.layers,
    heads: data.heads,
    headDim: data.headDim,
    kvHeads: kvHeadsOf(data),
    causal: data.causal ?? false,
    ...(data.rotary ? { rotary: data.rotary } : {}),
  };
}

/** run.json: everything but the vectors. `extra` is the caller's (the page's result, the CLI's). */
export interface StoredRun<Extra = unknown> {
  format: typeof STORE_FORMAT;
  version: number;
  complete: true;
  id: string;
  createdAt: string;
  shape: StoredShape;
  attention: AttentionSpec[];
  dtype: VectorDtype;
  tokenCount: number;
  sentences: Omit<TokenizedSentence, 'start'>[];
  /** Sentences whose attention the model gave (attention-sample.bin, float32, [cell][Σ n²]). */
  sample: number[];
  /** An image run: the images' layout (its pictures in pictures.bin, with their CRC-32). */
  images?: ImageLayout & { crc32: number };
  /** Each vector file's CRC-32 per cell (its [token][dim] rows), and the value norms' when the run has them. */
  checksums: Partial<Record<CellFile, number[]>>;
  bytes: number;
  extra: Extra;
}

/** The run was cut off before it was finished (or its record is damaged): it is not a run. */
export class RunUnfinishedError extends Error {}
/** A head's bytes do not match the checksum written with them. */
export class RunCorruptError extends Error {}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export interface RunPlan {
  /** An image run's layout and pictures (uint8 [image][height][width][3]). */
  images?: { layout: ImageLayout; pictures: Uint8Array[] };
  id: string;
  shape: StoredShape;
  attention: AttentionSpec[];
  dtype: VectorDtype;
  sentences: TokenizedSentence[];
}

/** What a window of extraction hands the writer (lib/engine/extract's ExtractedWindow, structurally). */
export interface VectorWindow {
  rowStart: number;
  rows: number;
  queries: Float32Array;
  keys: Float32Array;
  rotated?: { queries: Float32Array; keys: Float32Array };
  /** [key cell][row][dim] values (absent: the run has none). */
  values?: Float32Array;
  /** [cell][row] value norms (absent: the run has none). */
  valueNorms?: Float32Array;
}

export class RunWriter {
  private readonly files = new Map<CellFile, WritableStoreFile>();
  private readonly crc = new Map<CellFile, Uint32Array>();
  private nextRow = 0;
  private sampled: AttentionSample | null = null;
  private written = 0;

  private constructor(
    private readonly folder: StoreFolder,
    private readonly plan: RunPlan,
    readonly tokenCount: number,
  ) {}

  /** A new folder for the run (an unfinished one of the same id is replaced). */
  static async begin(root: StoreRoot, plan: RunPlan): Promise<RunWriter> {
    await root.remove(plan.id).catch(() => {});
    const folder = await root.folder(plan.id, { create: true });
    if (!folder) throw new Error(`the store could not create ${plan.id}`);
    const N = plan.sentences.reduce((n, s) => n + s.ids.length, 0);
    const writer = new RunWriter(folder, plan, N);
    const { layers, heads } = plan.shape;
    const names: VectorFile[] = plan.shape.rotary === 'pre' ? ['queries', 'keys', 'rotated-queries', 'rotated-keys'] : ['queries', 'keys'];
    for (const name of names) {
      writer.files.set(name, await folder.create(`${name}.bin`));
      const cells = layers * (name.endsWith('keys') ? kvHeadsOf(plan.shape) : heads);
      writer.crc.set(name, new Uint32Array(cells).fill(CRC32_START));
    }
    return writer;
  }

  /**
   * Opens an optional per-cell file (values, value norms) with the first window that brings
   * it: a graph gives it for every window or for none.
   */
  private async optional(name: CellFile, present: boolean, cells: number, rowStart: number): Promise<void> {
    if (present && rowStart === 0 && !this.files.has(name)) {
      this.files.set(name, await this.folder.create(`${name}.bin`));
      this.crc.set(name, new Uint32Array(cells).fill(CRC32_START));
    }
    if (present !== this.files.has(name)) throw new Error(`${name}: in some windows of the run and not in others`);
  }

  /** Writes a window's rows of every head; windows come in corpus order. */
  async window(w: VectorWindow): Promise<void> {
    if (w.rowStart !== this.nextRow) throw new Error(`windows out of order: rows from ${w.rowStart}, expected ${this.nextRow}`);
    const { layers, heads } = this.plan.shape;
    await this.optional('values', !!w.values, layers * kvHeadsOf(this.plan.shape), w.rowStart);
    await this.optional(VALUE_NORMS_FILE, !!w.valueNorms, layers * heads, w.rowStart);
    const parts: [CellFile, Float32Array][] = [
      ['queries', w.queries],
      ['keys', w.keys],
    ];
    if (w.rotated) parts.push(['rotated-queries', w.rotated.queries], ['rotated-keys', w.rotated.keys]);
    if (w.values) parts.push(['values', w.values]);
    if (w.valueNorms) parts.push([VALUE_NORMS_FILE, w.valueNorms]);
    for (const [name, values] of parts) {
      const file = this.files.get(name);
      if (!file) throw new Error(`${name} is not part of this run`);
      const crc = this.crc.get(name)!;
      const D = rowWidth(name, this.plan.shape.headDim);
      const half = inRunPrecision(name, this.plan.dtype);
      const size = half ? 2 : 4;
      for (let c = 0; c < crc.length; c++) {
        const rows = values.subarray(c * w.rows * D, (c + 1) * w.rows * D);
        const bytes = bytesOf(half ? toFloat16(rows) : rows);
        crc[c] = crc32Update(crc[c], bytes);
        await file.write(bytes, (c * this.tokenCount + w.rowStart) * D * size);
        this.written += bytes.length;
      }
    }
    this.nextRow += w.rows;
  }

  /** The model's attention on the sampled sentences. */
  sample(sample: AttentionSample): void {
    this.sampled = sample;
  }

  private record: StoredRun<null> | null = null;

  /**
   * Closes the vector files (and writes the attention sample): their heads can be read back
   * (the returned reader) while the run is not yet finished — run.json is not written, so
   * nothing else opens it.
   */
  async closeVectors(): Promise<RunReader<null>> {
    if (this.nextRow !== this.tokenCount) throw new Error(`the run holds ${this.nextRow} of ${this.tokenCount} token rows`);
    if (!this.record) {
      const sample = this.sampled ?? { sentences: new Int32Array(0), blocks: new Int32Array(1), values: new Float32Array(0) };
      const sampleFile = await this.folder.create(`${SAMPLE_FILE}.bin`);
      await sampleFile.write(bytesOf(sample.values), 0);
      await sampleFile.close();
      let images: StoredRun['images'];
      if (this.plan.images) {
        const { layout, pictures } = this.plan.images;
        const file = await this.folder.create(`${PICTURES_FILE}.bin`);
        let crc = CRC32_START;
        let at = 0;
        for (const p of pictures) {
          crc = crc32Update(crc, p);
          await file.write(p, at);
          at += p.byteLength;
        }
        await file.close();
        this.written += at;
        images = { ...layout, crc32: crc32Final(crc) };
      }
      const { shape, attention, dtype, sentences, id } = this.plan;
      this.record = {
        format: STORE_FORMAT,
        version: STORE_VERSION,
        complete: true,
        id,
        createdAt: new Date().toISOString(),
        shape,
        attention,
        dtype,
        tokenCount: this.tokenCount,
        sentences: sentences.map(({ start: _, ...s }) => s),
        sample: Array.from(sample.sentences),
        ...(images ? { images } : {}),
        checksums: Object.fromEntries([...this.crc].map(([name, states]) => [name, Array.from(states, crc32Final)])),
        bytes: this.written + sample.values.byteLength,
        extra: null,
      };
      // Where the writer's handles read back (a sync access handle in the page's worker), the
      // run's heads are read through them until it is finished: much faster than reopening.
      if ([...this.files.values()].some((f) => !f.read)) await this.closeFiles();
    }
    const files = this.files;
    const folder = this.folder;
    const through: StoreFolder = {
      name: folder.name,
      create: (file) => folder.create(file),
      files: () => folder.files(),
      async open(file) {
        const open = files.get(file.replace(/\.bin$/, '') as CellFile);
        if (!open?.read) return folder.open(file);
        const read = open.read.bind(open);
        return { size: Infinity, read: async (start, end) => read(start, end) };
      },
    };
    // The files were just written here: no need to check them again.
    return RunReader.over(through, this.record, false);
  }

  private async closeFiles(): Promise<void> {
    for (const f of this.files.values()) await f.close();
    this.files.clear();
  }

  /** Writes run.json (after closing the vectors if not yet): from now on the run opens. */
  async finish<Extra>(extra: Extra): Promise<StoredRun<Extra>> {
    await this.closeVectors();
    await this.closeFiles();
    const record: StoredRun<Extra> = { ...this.record!, extra };
    const file = await this.folder.create(RECORD_FILE);
    await file.write(new TextEncoder().encode(JSON.stringify(record, jsonReplacer)), 0);
    await file.close();
    return record;
  }

  /** Drops what was written (a cancelled or failed run). */
  async abort(root: StoreRoot): Promise<void> {
    for (const f of this.files.values()) await Promise.resolve(f.close()).catch(() => {});
    this.files.clear();
    await root.remove(this.plan.id).catch(() => {});
  }
}

/** Reads a finished run: its record at once, its vectors a head (or a sentence of a head) at a time. */
export class RunReader<Extra = unknown> {
  readonly sentenceStarts: Int32Array;
  private readonly files = new Map<string, ReadableStoreFile>();

  private constructor(
    private readonly folder: StoreFolder,
    readonly record: StoredRun<Extra>,
    /** Check each head read against its checksum (a file from elsewhere); off for a store's own fresh files. */
    private readonly verify = true,
  ) {
    this.sentenceStarts = corpusLayout(record.sentences.map((s) => s.ids.length)).sentenceStarts;
  }

  /** A reader over a folder whose record is known (the writer's, before run.json is written). */
  static over<Extra>(folder: StoreFolder, record: StoredRun<Extra>, verify = true): RunReader<Extra> {
    return new RunReader(folder, record, verify);
  }

  /**
   * Opens run `id`; RunUnfinishedError when it was never finished (or its record is damaged).
   * `verify`: check every head read against its checksum (a CRC-32 costs about a second a GB).
   */
  static async open<Extra>(root: StoreRoot, id: string, options: { verify?: boolean } = {}): Promise<RunReader<Extra>> {
    const folder = await root.folder(id);
    if (!folder) throw new RunUnfinishedError(`There is no run ${id} in this store.`);
    const file = await folder.open(RECORD_FILE);
    if (!file)
      throw new RunUnfinishedError(
        `Run ${id} was not finished (it was cut off while it was written: a closed tab, a full disk or a crash), so it is not shown. Run the corpus again.`,
      );
    let record: StoredRun<Extra>;
    try {
      record = JSON.parse(new TextDecoder().decode(await file.read(0, file.size)), jsonReviver);
    } catch {
      throw new RunUnfinishedError(`Run ${id}'s record is damaged (not valid JSON), so it is not shown. Run the corpus again.`);
    }
    if (record.format !== STORE_FORMAT || !record.complete) throw new RunUnfinishedError(`Run ${id} is not a finished QKViz run.`);
    if (record.version > STORE_VERSION)
      throw new RunUnfinishedError(`Run ${id} was stored by a newer QKViz (format ${record.version}); this one reads format ${STORE_VERSION}.`);
    return new RunReader(folder, record, options.verify ?? true);
  }

  get shape(): StoredShape {
    return this.record.shape;
  }

  /** One of the run's files, read by byte ranges (a vector file, by its name with .bin). */
  async file(name: string): Promise<ReadableStoreFile> {
    return this.open(name.replace(/\.bin$/, ''));
  }

  private async open(name: string): Promise<ReadableStoreFile> {
    let f = this.files.get(name);
    if (!f) {
      const opened = await this.folder.open(`${name}.bin`);
      if (!opened) throw new RunCorruptError(`Run ${this.record.id} lacks its ${name} file.`);
      this.files.set(name, (f = opened));
    }
    return f;
  }

  /** Rows [row0, row0 + n) of one cell of a vector file, as float32. */
  private async rowsOf(name: CellFile, cell: number, row0: number, n: number, verify: boolean): Promise<Float32Array> {
    const D = rowWidth(name, this.record.shape.headDim);
    const half = inRunPrecision(name, this.record.dtype);
    const size = half ? 2 : 4;
    const start = (cell * this.record.tokenCount + row0) * D * size;
    const bytes = await (await this.open(name)).read(start, start + n * D * size);
    if (bytes.length !== n * D * size) throw new RunCorruptError(`Run ${this.record.id}'s ${name} file is cut short (head ${cell}).`);
    if (verify && this.verify) {
      const want = this.record.checksums[name]?.[cell];
      if (want !== undefined && crc32Final(crc32Update(CRC32_START, bytes)) !== want)
        throw new RunCorruptError(`Run ${this.record.id}'s ${name} of head ${cell} does not match its checksum (a changed byte on disk).`);
    }
    // A buffer of its own, aligned, so the caller may transfer it (copied only when the read's is shared or unaligned).
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    return half ? fromFloat16(new Uint16Array(own.buffer, 0, n * D)) : new Float32Array(own.buffer, 0, n * D);
  }

  private keyCell(cell: number): number {
    const { heads } = this.record.shape;
    const kv = kvHeadsOf(this.record.shape);
    return Math.floor(cell / heads) * kv + Math.floor((cell % heads) / (heads / kv));
  }

  /** A stored file as the platform's file object (a browser File), to hand on without reading it; null where there is none. */
  async fileBlob(name: string): Promise<unknown | null> {
    const file = await this.folder.open(name);
    return file?.blob ? file.blob() : null;
  }

  /** One head's queries and its key head's keys ([token][dim]), checked against their checksums. */
  async head(cell: number): Promise<{ q: Float32Array; k: Float32Array }> {
    const N = this.record.tokenCount;
    return { q: await this.rowsOf('queries', cell, 0, N, true), k: await this.rowsOf('keys', this.keyCell(cell), 0, N, true) };
  }

  /** The vectors attention is computed from for one head: the rotated ones of a run of unrotated vectors, else its own. */
  async attentionHead(cell: number): Promise<{ q: Float32Array; k: Float32Array }> {
    if (this.record.shape.rotary !== 'pre') return this.head(cell);
    const N = this.record.tokenCount;
    return { q: await this.rowsOf('rotated-queries', cell, 0, N, true), k: await this.rowsOf('rotated-keys', this.keyCell(cell), 0, N, true) };
  }

  /** One sentence's rows of a head (queries, keys, and the vectors attention is computed from). */
  async sentence(cell: number, sentence: number): Promise<{ q: Float32Array; k: Float32Array; qa: Float32Array; ka: Float32Array }> {
    const row0 = this.sentenceStarts[sentence];
    const n = this.sentenceStarts[sentence + 1] - row0;
    const q = await this.rowsOf('queries', cell, row0, n, false);
    const k = await this.rowsOf('keys', this.keyCell(cell), row0, n, false);
    if (this.record.shape.rotary !== 'pre') return { q, k, qa: q, ka: k };
    return { q, k, qa: await this.rowsOf('rotated-queries', cell, row0, n, false), ka: await this.rowsOf('rotated-keys', this.keyCell(cell), row0, n, false) };
  }

  /** Query head `cell`'s values (its key head's, [token][dim]); null when the run has none. */
  async values(cell: number): Promise<Float32Array | null> {
    if (!('values' in this.record.checksums)) return null;
    return this.rowsOf('values', this.keyCell(cell), 0, this.record.tokenCount, true);
  }

  /** An image run's pictures as the model saw them (uint8 [image][height][width][3]), checked; null for a text run. */
  async pictures(): Promise<Uint8Array | null> {
    const images = this.record.images;
    if (!images) return null;
    const file = await this.open(PICTURES_FILE);
    const bytes = (await file.read(0, file.size)).slice();
    if (bytes.length !== this.record.sentences.length * images.height * images.width * 3)
      throw new RunCorruptError(`Run ${this.record.id}'s pictures are cut short.`);
    if (this.verify && crc32Final(crc32Update(CRC32_START, bytes)) !== images.crc32)
      throw new RunCorruptError(`Run ${this.record.id}'s pictures do not match their checksum.`);
    return bytes;
  }

  /** Whether the run holds value norms. */
  get hasValueNorms(): boolean {
    return VALUE_NORMS_FILE in this.record.checksums;
  }

  /** One head's value norms over tokens [row0, row0 + n) (all when not given); null when the run has none. */
  async valueNorms(cell: number, row0 = 0, n = this.record.tokenCount): Promise<Float32Array | null> {
    // A whole head is checked against its checksum (a sentence's rows, like a sentence's vectors, are not).
    return this.hasValueNorms ? this.rowsOf(VALUE_NORMS_FILE, cell, row0, n, row0 === 0 && n === this.record.tokenCount) : null;
  }

  async attentionSample(): Promise<AttentionSample> {
    const lengths = this.record.sample.map((s) => this.record.sentences[s].ids.length);
    const blocks = corpusLayout(lengths).pairStarts;
    const file = await this.open(SAMPLE_FILE);
    const bytes = (await file.read(0, file.size)).slice();
    return { sentences: Int32Array.from(this.record.sample), blocks, values: new Float32Array(bytes.buffer, 0, bytes.length / 4) };
  }

  /** The whole run in memory, as the analysis and the CLI take it (a small run; the page reads heads instead). */
  async data(): Promise<QueryKeyData> {
    const { shape, tokenCount: N } = this.record;
    const cells = shape.layers * shape.heads;
    const kvCells = shape.layers * shape.kvHeads;
    const gather = async (name: CellFile, count: number) => {
      const size = N * rowWidth(name, shape.headDim);
      const out = new Float32Array(count * size);
      for (let c = 0; c < count; c++) out.set(await this.rowsOf(name, c, 0, N, true), c * size);
      return out;
    };
    const rotated = shape.rotary === 'pre' ? { queries: await gather('rotated-queries', cells), keys: await gather('rotated-keys', kvCells) } : undefined;
    const values = 'values' in this.record.checksums ? await gather('values', kvCells) : undefined;
    const valueNorms = this.hasValueNorms ? await gather(VALUE_NORMS_FILE, cells) : undefined;
    return {
      ...storedShapeOf(shape),
      tokenCount: N,
      sentences: this.record.sentences.map((s, i) => ({ ...s, start: this.sentenceStarts[i] })),
      sentenceStarts: this.sentenceStarts,
      queries: await gather('queries', cells),
      keys: await gather('keys', kvCells),
      ...(rotated ? { rotated } : {}),
      ...(values ? { values } : {}),
      ...(valueNorms ? { valueNorms } : {}),
      ...(this.record.images ? { images: imageLayoutOf(this.record.images), pictures: (await this.pictures())! } : {}),
      attention: this.record.attention,
      attentionSample: await this.attentionSample(),
    };
  }
}

/** A record's image layout without its checksum. */
export const imageLayoutOf = ({ crc32: _, ...layout }: ImageLayout & { crc32: number }): ImageLayout => layout;

/** A run marked to go (its files are still read by a page showing it): listed with the unfinished ones. */
export const DROPPED_FILE = 'dropped';

/** Marks a run to go without removing files a view may still read. */
export async function dropRun(root: StoreRoot, id: string): Promise<void> {
  const folder = await root.folder(id);
  if (!folder) return;
  const marker = await folder.create(DROPPED_FILE);
  await marker.close();
}

/** The finished runs of a store (newest first), and those cut off or dropped (which the caller may delete). */
export async function listRuns<Extra>(root: StoreRoot): Promise<{ runs: StoredRun<Extra>[]; unfinished: string[] }> {
  const runs: StoredRun<Extra>[] = [];
  const unfinished: string[] = [];
  for (const id of await root.folders()) {
    if ((await (await root.folder(id))?.files())?.includes(DROPPED_FILE)) {
      unfinished.push(id);
      continue;
    }
    try {
      runs.push((await RunReader.open<Extra>(root, id)).record);
    } catch (e) {
      if (e instanceof RunUnfinishedError) unfinished.push(id);
      else throw e;
    }
  }
  return { runs: runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)), unfinished };
}

/** Stores a run held in memory (the CLI's, a bundle's) as the extraction would have, in windows of `windowRows` rows. */
export async function storeRun<Extra>(
  root: StoreRoot,
  id: string,
  data: QueryKeyData,
  dtype: VectorDtype,
  extra: Extra,
  windowRows = 4096,
): Promise<StoredRun<Extra>> {
  const shape = storedShapeOf(data);
  const images = data.images && data.pictures ? { layout: data.images, pictures: [data.pictures] } : undefined;
  const writer = await RunWriter.begin(root, { id, shape, attention: data.attention, dtype, sentences: data.sentences, ...(images ? { images } : {}) });
  const D = data.headDim;
  const N = data.tokenCount;
  const cut = (values: Float32Array, cells: number, r0: number, rows: number, width = D) => {
    const out = new Float32Array(cells * rows * width);
    for (let c = 0; c < cells; c++) out.set(values.subarray((c * N + r0) * width, (c * N + r0 + rows) * width), c * rows * width);
    return out;
  };
  const cells = data.layers * data.heads;
  const kvCells = data.layers * shape.kvHeads;
  try {
    for (let s = 0; s < data.sentences.length;) {
      const r0 = data.sentenceStarts[s];
      let e = s + 1;
      while (e < data.sentences.length && data.sentenceStarts[e + 1] - r0 <= windowRows) e++;
      const rows = data.sentenceStarts[e] - r0;
      await writer.window({
        rowStart: r0,
        rows,
        queries: cut(data.queries, cells, r0, rows),
        keys: cut(data.keys, kvCells, r0, rows),
        rotated: data.rotated && { queries: cut(data.rotated.queries, cells, r0, rows), keys: cut(data.rotated.keys, kvCells, r0, rows) },
        values: data.values && cut(data.values, kvCells, r0, rows),
        valueNorms: data.valueNorms && cut(data.valueNorms, cells, r0, rows, 1),
      });
      s = e;
    }
    writer.sample(data.attentionSample);
    return await writer.finish(extra);
  } catch (e) {
    await writer.abort(root);
    throw e;
  }
}
