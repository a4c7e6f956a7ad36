import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { DataType, GraphBuilder } from '../../../lib/onnx/graph';
import { keepOnlyOutputs } from '../../../lib/onnx/prune';

describe('keepOnlyOutputs', () => {
  it('drops the other graph outputs and leaves a model that computes the kept one identically', async () => {
    const g = new GraphBuilder('two-outputs');
    const x = g.input('x', DataType.FLOAT, [2]);
    g.node('Mul', [x, g.scalar('two', 2)], undefined, ['doubled']);
    g.node('Add', ['doubled', g.scalar('one', 1)], undefined, ['result']);
    g.output('doubled', DataType.FLOAT, [2]);
    g.output('result', DataType.FLOAT, [2]);
    const full = g.toBytes({ producer: 'test', metadata: { note: 'kept' } });
    const pruned = keepOnlyOutputs(full, ['result']);
    const [a, b] = await Promise.all([ort.InferenceSession.create(full), ort.InferenceSession.create(pruned)]);
    expect(a.outputNames).toEqual(['doubled', 'result']);
    expect(b.outputNames).toEqual(['result']);
    const feeds = { x: new ort.Tensor('float32', Float32Array.of(1.5, -3), [2]) };
    expect(Array.from((await b.run(feeds)).result.data as Float32Array)).toEqual(Array.from((await a.run(feeds)).result.data as Float32Array));
    expect(Array.from((await b.run(feeds)).result.data as Float32Array)).toEqual([4, -5]);
  });
});
