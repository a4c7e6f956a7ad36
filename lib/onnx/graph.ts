// Builds an ONNX ModelProto from a small typed description: nodes, float/int64
// initializers, graph inputs and outputs. Field numbers follow onnx/onnx.proto3;
// only what a transformer encoder needs is covered.
import { ProtoWriter } from './protobuf';

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

/** ONNX AttributeProto.AttributeType values used here. */
const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const;

/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;
export const OPSET = 17;

export type AttributeValue = number | number[] | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

/** A dimension is a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: DataTypeId;
  shape: Dim[];
}

interface Initializer {
  name: string;
  type: DataTypeId;
  dims: number[];
  raw: Uint8Array;
}

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

  // Typed arrays are little-endian wherever Node or a browser runs, as ONNX raw_data is,
  // so initializers keep a view of the weights instead of a copy.
  floatTensor(name: string, data: Float32Array, dims: number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    }
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, type: DataType.FLOAT, dims, raw });
    return name;
  }

  int64Tensor(name: string, values: number[], dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const raw = new Uint8Array(data.buffer);
    this.initializers.push({ name, type: DataType.INT64, dims, raw });
    return name;
  }

  /** A float scalar constant (shape []). */
  scalar(name: string, value: number): string {
    return this.floatTensor(name, Float32Array.of(value), []);
  }

  /** Adds a node and returns its first output's name. */
  node(op: string, inputs: string[], attributes?: Record<string, AttributeValue>, outputs?: string[]): string {
    const outs = outputs ?? [this.fresh(op.toLowerCase())];
    this.nodes.push({ op, inputs, outputs: outs, attributes, name: this.fresh(`n_${op}`) });
    return outs[0];
  }

  /** Serialises the whole model to ONNX protobuf bytes. */
  toBytes(meta: { producer: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    const graph = new ProtoWriter();
    for (const n of this.nodes) graph.message(1, encodeNode(n));
    graph.string(2, this.name);
    for (const init of this.initializers) graph.message(5, encodeInitializer(init));
    for (const v of this.inputs) graph.message(11, encodeValueInfo(v));
    for (const v of this.outputs) graph.message(12, encodeValueInfo(v));

    const model = new ProtoWriter();
    model.int(1, IR_VERSION);
    model.string(2, meta.producer);
    if (meta.docString) model.string(6, meta.docString);
    model.message(7, graph);
    model.message(8, new ProtoWriter().string(1, '').int(2, OPSET));
    for (const [key, value] of Object.entries(meta.metadata ?? {})) {
      model.message(14, new ProtoWriter().string(1, key).string(2, value));
    }
    return model.finish();
  }
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [key, value] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(key, value));
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

function encodeInitializer(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.type);
  w.string(8, t.name);
  w.bytes(9, t.raw);
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
