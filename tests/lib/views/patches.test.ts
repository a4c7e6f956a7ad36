// An image run's patch colours: each patch's mean colour and brightness from the pictures
// (checked against patches painted in known colours), special tokens left out; the "patch
// colour" and "brightness" colourings use them for patches and the query/key colours for the rest;
// patch row and column colourings span the grid.
import { describe, expect, it } from 'vitest';
import { PALETTES, pointColours } from '../../../lib/views/colour';
import { patchMeans } from '../../../lib/views/patches';
import { tokenTable } from '../../../lib/views/tokens';

const layout = { height: 4, width: 6, patch: 2, grid: [2, 3] as [number, number], specials: 1 };
const tokens = ['[CLS]', 'r1c1', 'r1c2', 'r1c3', 'r2c1', 'r2c2', 'r2c3'];

/** Two 4×6 pictures whose 2×2 patches are each one colour: image i, patch p → (40p + i, 10p, 255 − 30p). */
function pictures(): Uint8Array {
  const out = new Uint8Array(2 * 4 * 6 * 3);
  for (let i = 0; i < 2; i++)
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 6; x++) {
        const p = Math.floor(y / 2) * 3 + Math.floor(x / 2);
        out.set([40 * p + i, 10 * p, 255 - 30 * p], ((i * 4 + y) * 6 + x) * 3);
      }
  return out;
}

describe('patch colours', () => {
  it('are each patch’s mean colour and brightness; special tokens have none', () => {
    const means = patchMeans(pictures(), layout, 2);
    for (let i = 0; i < 2; i++) {
      expect(means.brightness[i * 7]).toBe(-1);
      for (let p = 0; p < 6; p++) {
        const row = i * 7 + 1 + p;
        const [r, g, b] = [40 * p + i, 10 * p, 255 - 30 * p];
        expect(Array.from(means.rgb.subarray(row * 3, row * 3 + 3))).toEqual([r, g, b]);
        expect(means.brightness[row]).toBeCloseTo((0.299 * r + 0.587 * g + 0.114 * b) / 255, 6);
      }
    }
  });

  it('colour patch points by their colour or brightness, and special tokens by query/key', () => {
    const table = tokenTable({
      tokenCount: 14,
      sentences: [0, 1].map((i) => ({ text: `image${i}.png`, ids: new Array(7).fill(0), tokens, start: 7 * i })),
    });
    const means = patchMeans(pictures(), layout, 2);
    const colours = pointColours(table, 'patchColour', 'reference', means);
    expect(Array.from(colours.subarray(3, 6))).toEqual(Array.from(means.rgb.subarray(3, 6)));
    expect(Array.from(colours.subarray(0, 3))).toEqual(PALETTES.reference.query);
    expect(Array.from(colours.subarray(14 * 3, 14 * 3 + 3))).toEqual(PALETTES.reference.key);
    const bright = pointColours(table, 'brightness', 'reference', means);
    // Patch 0 (pure blue) is darker than patch 5: their places on the ramp differ, the darker nearer its light end.
    const [dim, lit] = [1, 1 + 5];
    expect(means.brightness[dim]).toBeLessThan(means.brightness[lit]);
    const ramp = PALETTES.reference.queryRamp;
    const along = (row: number) =>
      Math.abs(bright[row * 3] - ramp[0][0]) + Math.abs(bright[row * 3 + 1] - ramp[0][1]) + Math.abs(bright[row * 3 + 2] - ramp[0][2]);
    expect(along(dim)).toBeLessThan(along(lit));
    // Patch rows and columns: the grid's first row (or column) at the ramp's light end, its last at the dark end.
    const rows = pointColours(table, 'patchRow', 'reference');
    const columns = pointColours(table, 'patchColumn', 'reference');
    const at = (c: Uint8Array, row: number) => Array.from(c.subarray(row * 3, row * 3 + 3));
    expect(at(rows, 1)).toEqual(ramp[0]); // r1c1
    expect(at(rows, 4)).toEqual(ramp[1]); // r2c1
    expect(at(columns, 1)).toEqual(ramp[0]); // r1c1
    expect(at(columns, 3)).toEqual(ramp[1]); // r1c3
    expect(at(rows, 0)).toEqual(PALETTES.reference.query); // [CLS]
  });
});
