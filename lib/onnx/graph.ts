// Builds an ONNX ModelProto from a small typed description: nodes (of the default domain or
// onnxruntime's com.microsoft), typed initializers, graph inputs and outputs. Field numbers
// follow onnx/onnx.proto3; only what a transformer needs is covered. An initializer may be
// given as a producer of its bytes, called only while the model is written: a converter
// declares a whole model's graph from a checkpoint's header and then reads, converts and
// writes one weight at a time — the checkpoint is never in memory twice. Past protobuf's 2 GB
// a model keeps its weights in an external data file beside it.
import { ProtoWriter } from './protobuf';

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7, FLOAT16: 10 } as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];
const BYTES: Record<DataTypeId, number> = { 1: 4, 2: 1, 7: 8, 10: 2 };

/** ONNX AttributeProto.AttributeType values used here. */
const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const;

/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;
export const OPSET = 17;
/** onnxruntime's contrib operators (MatMulNBits). */
export const MS_DOMAIN = 'com.microsoft';

export type AttributeValue = number | number[] | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

/** A dimension is a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: DataTypeId;
  shape: Dim[];
}

/** An initializer's bytes, or what makes them when the model is written. */
export type TensorBytes = Uint8Array | (() => Uint8Array | Promise<Uint8Array>);

interface Initializer {
  name: string;
  type: DataTypeId;
  dims: number[];
  byteLength: number;
  bytes: TensorBytes;
}

/** Where a written model goes: the model's protobuf in pieces, and (with external data) the weights files. */
export interface GraphSink {
  model(bytes: Uint8Array): void | Promise<void>;
  /** Bytes of the external data file `file`, at offset `at` (each file written front to back). */
  data?(file: string, bytes: Uint8Array, at: number): void | Promise<void>;
}

export interface ExternalData {
  /** The first data file's name, beside the model (e.g. model.onnx.data); later ones add _1, _2… */
  file: string;
  /** A file is closed past this many bytes (a browser reads each into one ArrayBuffer). */
  maxFileBytes?: number;
}

/** The data files a model's weights are spread over, from the first one's name. */
export const externalDataFile = (first: string, index: number): string => (index === 0 ? first : `${first}_${index}`);

/** Data files are closed past 1 GiB by default: well under what one ArrayBuffer may hold. */
const EXTERNAL_FILE_BYTES = 2 ** 30;

/** Initializers at least this large go to the external data file when there is one (small ones stay inline). */
const EXTERNAL_MIN_BYTES = 1024;
/** Offsets in the external data file are aligned to this (what memory-mapping loaders prefer). */
const EXTERNAL_ALIGN = 64;
/** protobuf's limit on a message: a model above it must keep its weights outside. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private initializers: Initializer[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh, unique value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}__${this.counter++}`;
  }

  input(name: string, type: DataTypeId, shape: Dim[]): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  output(name: string, type: DataTypeId, shape: Dim[]): void {
    this.outputs.push({ name, type, shape });
  }

  /** An initializer of any type: its bytes now, or a producer called when the model is written. */
  tensor(name: string, type: DataTypeId, dims: number[], bytes: TensorBytes): string {
    const byteLength = dims.reduce((a, b) => a * b, 1) * BYTES[type];
    if (bytes instanceof Uint8Array && bytes.byteLength !== byteLength)
      throw new Error(`initializer ${name}: ${bytes.byteLength} bytes for a [${dims}] tensor of type ${type}`);
    this.initializers.push({ name, type, dims, byteLength, bytes });
    return name;
  }

  // Typed arrays are little-endian wherever Node or a browser runs, as ONNX raw_data is,
  // so initializers keep a view of the weights instead of a copy.
  floatTensor(name: string, data: Float32Array, dims: number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    }
    return this.tensor(name, DataType.FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  int64Tensor(name: string, values: number[], dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.tensor(name, DataType.INT64, dims, new Uint8Array(data.buffer));
  }

  /** A float scalar constant (shape []). */
  scalar(name: string, value: number): string {
    return this.floatTensor(name, Float32Array.of(value), []);
  }

  /** Adds a node and returns its first output's name. */
  node(op: string, inputs: string[], attributes?: Record<string, AttributeValue>, outputs?: string[], domain?: string): string {
    const outs = outputs ?? [this.fresh(op.toLowerCase())];
    this.nodes.push({ op, inputs, outputs: outs, attributes, name: this.fresh(`n_${op}`), ...(domain ? { domain } : {}) });
    return outs[0];
  }

  /** Bytes of every initializer (the weights), known before any is produced. */
  get weightBytes(): number {
    return this.initializers.reduce((a, t) => a + t.byteLength, 0);
  }

  /** Serialises a model whose initializers are all given as bytes, in one buffer (small models and tests). */
  toBytes(meta: ModelMeta): Uint8Array {
    if (this.initializers.some((t) => !(t.bytes instanceof Uint8Array)))
      throw new Error('toBytes: some initializers are produced on writing; use bytes() or write()');
    return this.proto(meta, null).finish();
  }

  /** The whole model in one buffer, producing every initializer (models under protobuf's 2 GB). */
  async bytes(meta: ModelMeta): Promise<Uint8Array> {
    const pieces: Uint8Array[] = [];
    await this.write(meta, { model: (b) => void pieces.push(b) });
    const out = new Uint8Array(pieces.reduce((a, p) => a + p.byteLength, 0));
    let at = 0;
    for (const p of pieces) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }

  /**
   * Writes the model to `sink`, producing each initializer's bytes as it is reached (and
   * dropping them after). With `externalData`, initializers of 1 KB and more go to data files
   * beside the model (aligned, split past `maxFileBytes`) and the protobuf holds their places.
   */
  async write(
    meta: ModelMeta,
    sink: GraphSink,
    options: { externalData?: ExternalData } = {},
  ): Promise<{ modelBytes: number; dataBytes: number; dataFiles: string[] }> {
    const external = options.externalData;
    if (external && !sink.data) throw new Error('write: external data needs a sink for the data files');
    const places = new Map<Initializer, Place>();
    const files: string[] = [];
    let dataBytes = 0;
    if (external) {
      const limit = external.maxFileBytes ?? EXTERNAL_FILE_BYTES;
      let offset = 0;
      for (const t of this.initializers) {
        if (t.byteLength < EXTERNAL_MIN_BYTES) continue;
        if (!files.length || (offset > 0 && offset + t.byteLength > limit)) {
          files.push(externalDataFile(external.file, files.length));
          offset = 0;
        }
        places.set(t, { file: files[files.length - 1], offset, length: t.byteLength });
        offset = Math.ceil((offset + t.byteLength) / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
      }
      for (const [t, place] of places) {
        await sink.data!(place.file, await produce(t), place.offset);
        dataBytes += place.length;
      }
    }
    const proto = this.proto(meta, external ? places : null);
    if (proto.byteLength > PROTOBUF_LIMIT) throw new Error(`the model is ${proto.byteLength} bytes, over protobuf's 2 GB: write it with external data`);
    let modelBytes = 0;
    for await (const piece of proto.pieces()) {
      await sink.model(piece);
      modelBytes += piece.byteLength;
    }
    return { modelBytes, dataBytes, dataFiles: files };
  }

  private proto(meta: ModelMeta, places: Map<Initializer, Place> | null): ProtoWriter {
    const graph = new ProtoWriter();
    for (const n of this.nodes) graph.message(1, encodeNode(n));
    graph.string(2, this.name);
    for (const init of this.initializers) graph.message(5, encodeInitializer(init, places?.get(init)));
    for (const v of this.inputs) graph.message(11, encodeValueInfo(v));
    for (const v of this.outputs) graph.message(12, encodeValueInfo(v));

    const model = new ProtoWriter();
    model.int(1, IR_VERSION);
    model.string(2, meta.producer);
    if (meta.docString) model.string(6, meta.docString);
    model.message(7, graph);
    model.message(8, new ProtoWriter().string(1, '').int(2, OPSET));
    if (this.nodes.some((n) => n.domain === MS_DOMAIN)) model.message(8, new ProtoWriter().string(1, MS_DOMAIN).int(2, 1));
    for (const [key, value] of Object.entries(meta.metadata ?? {})) {
      model.message(14, new ProtoWriter().string(1, key).string(2, value));
    }
    return model;
  }
}

export interface ModelMeta {
  producer: string;
  docString?: string;
  metadata?: Record<string, string>;
}

async function produce(t: Initializer): Promise<Uint8Array> {
  const bytes = t.bytes instanceof Uint8Array ? t.bytes : await t.bytes();
  if (bytes.byteLength !== t.byteLength) throw new Error(`initializer ${t.name}: made ${bytes.byteLength} bytes, expected ${t.byteLength}`);
  return bytes;
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [key, value] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(key, value));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeAttribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (Array.isArray(value)) {
    w.packedInts(8, value).int(20, AttributeType.INTS);
  } else if (typeof value === 'object') {
    w.float(2, value.float).int(20, AttributeType.FLOAT);
  } else {
    w.int(3, value).int(20, AttributeType.INT);
  }
  return w;
}

interface Place {
  file: string;
  offset: number;
  length: number;
}

function encodeInitializer(t: Initializer, place: Place | undefined): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.type);
  w.string(8, t.name);
  if (place) {
    const entry = (key: string, value: string) => new ProtoWriter().string(1, key).string(2, value);
    w.message(13, entry('location', place.file));
    w.message(13, entry('offset', String(place.offset)));
    w.message(13, entry('length', String(place.length)));
    w.int(14, 1); // data_location: EXTERNAL
  } else w.deferredBytes(9, t.byteLength, t.bytes instanceof Uint8Array ? t.bytes : () => produce(t));
  return w;
}

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, v.type).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}
