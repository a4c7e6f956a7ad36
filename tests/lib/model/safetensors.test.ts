import { describe, expect, it } from 'vitest';
import { SafetensorsError, readSafetensors } from '../../../lib/model/safetensors';
import { writeSafetensors } from '../../helpers/safetensorsWriter';

describe('readSafetensors', () => {
  it('reads F32 tensors with their shapes from a file written independently', () => {
    const bytes = writeSafetensors({
      a: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
      b: { shape: [3], data: Float32Array.of(-1.5, 0, 7) },
    });
    const t = readSafetensors(bytes);
    expect(t.get('a')!.shape).toEqual([2, 2]);
    expect(Array.from(t.get('a')!.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(t.get('b')!.data)).toEqual([-1.5, 0, 7]);
    expect(t.has('__metadata__')).toBe(false);
  });

  it('widens F16 and BF16 (IEEE bit patterns: 0x3C00 = 1, 0xC000 = −2, 0x7BFF = 65504; bf16 0x3F80 = 1)', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      bf: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
    });
    const hb = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + hb.length + 10);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, BigInt(hb.length), true);
    bytes.set(hb, 8);
    [0x3c00, 0xc000, 0x7bff, 0x3f80, 0xc0a0].forEach((v, i) => dv.setUint16(8 + hb.length + 2 * i, v, true));
    const t = readSafetensors(bytes);
    expect(Array.from(t.get('h')!.data)).toEqual([1, -2, 65504]);
    expect(Array.from(t.get('bf')!.data)).toEqual([1, -5]);
  });

  it('rejects truncated and corrupt files with a message', () => {
    const good = writeSafetensors({ a: { shape: [4], data: new Float32Array(4) } });
    expect(() => readSafetensors(good.subarray(0, good.length - 4))).toThrow(/past the end/);
    expect(() => readSafetensors(new Uint8Array(4))).toThrow(SafetensorsError);
    const corrupt = good.slice();
    corrupt[9] = 0x7b; // break the JSON
    corrupt[10] = 0x7b;
    expect(() => readSafetensors(corrupt)).toThrow(/not valid JSON/);
  });
});
