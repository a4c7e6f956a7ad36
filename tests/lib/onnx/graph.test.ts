// The protobuf writer against the protocol-buffers documentation's own examples, and the
// graph builder end to end: a small graph runs in onnxruntime and matches plain JS math.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { DataType, GraphBuilder } from '../../../lib/onnx/graph';
import { ProtoWriter } from '../../../lib/onnx/protobuf';

describe('ProtoWriter', () => {
  it('encodes the varint example from the protobuf encoding guide (field 1 = 150 → 08 96 01)', () => {
    expect(Array.from(new ProtoWriter().int(1, 150).finish())).toEqual([0x08, 0x96, 0x01]);
  });

  it('encodes the string example (field 2 = "testing" → 12 07 74 65 73 74 69 6e 67)', () => {
    expect(Array.from(new ProtoWriter().string(2, 'testing').finish())).toEqual([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
  });

  it('encodes negative int64 as ten-byte two’s complement and nests messages with their length', () => {
    expect(Array.from(new ProtoWriter().int(1, -1).finish())).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const inner = new ProtoWriter().int(1, 150);
    expect(Array.from(new ProtoWriter().message(3, inner).finish())).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
  });
});

describe('GraphBuilder', () => {
  it('builds a model onnxruntime accepts and computes Softmax((x·W + b)·s) like plain JS', async () => {
    const g = new GraphBuilder('tiny');
    const x = g.input('x', DataType.FLOAT, ['batch', 3]);
    const W = Float32Array.of(1, -2, 0.5, 3, 0, 1);
    const b = Float32Array.of(0.1, -0.2);
    const y = g.node('Add', [g.node('MatMul', [x, g.floatTensor('W', W, [3, 2])]), g.floatTensor('b', b, [2])]);
    const scaled = g.node('Mul', [y, g.scalar('s', 0.5)]);
    g.node('Softmax', [scaled], { axis: -1 }, ['out']);
    g.output('out', DataType.FLOAT, ['batch', 2]);
    const session = await ort.InferenceSession.create(g.toBytes({ producer: 'test' }));

    const input = Float32Array.of(1, 2, 3, -1, 0.5, 2);
    const result = (await session.run({ x: new ort.Tensor('float32', input, [2, 3]) })).out.data as Float32Array;
    for (let r = 0; r < 2; r++) {
      const logits = [0, 1].map((c) => 0.5 * (b[c] + [0, 1, 2].reduce((s, i) => s + input[r * 3 + i] * W[i * 2 + c], 0)));
      const e = logits.map(Math.exp);
      const expected = e.map((v) => v / (e[0] + e[1]));
      expect(result[r * 2]).toBeCloseTo(expected[0], 6);
      expect(result[r * 2 + 1]).toBeCloseTo(expected[1], 6);
    }
  });
});
