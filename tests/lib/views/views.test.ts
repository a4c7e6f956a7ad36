// The views' arithmetic, checked against brute force and invariants on a real extraction:
// which tokens a search finds, top-k attention links, hidden-token renormalisation, the
// colour-by modes and non-overlapping label placement.
import { beforeAll, describe, expect, it } from 'vitest';
import type { QueryKeyData } from '../../../lib/data/layout';
import { PALETTES, pointColours, rampValue } from '../../../lib/views/colour';
import { type LabelBox, placeLabels } from '../../../lib/views/labels';
import { sentenceAttention, sentenceBlock, topKLinks } from '../../../lib/views/links';
import { searchTokens, tokenTable } from '../../../lib/views/tokens';
import { seededRandom } from '../../../lib/util/random';
import { defaultSentences, extractDefault } from '../../helpers/extraction';

const SENTENCES = defaultSentences().slice(0, 40);
let data: QueryKeyData;

beforeAll(async () => {
  data = await extractDefault(SENTENCES);
});

describe('token table and search', () => {
  it('finds every "the" the raw text contains, and counts frequencies like a direct tally', () => {
    const table = tokenTable(data);
    // Independent of the tokenizer: "the" as a whole word in the raw sentences.
    const expected = SENTENCES.reduce((n, s) => n + (s.match(/\bthe\b/gi)?.length ?? 0), 0);
    expect(expected).toBeGreaterThan(5);
    expect(searchTokens(table, 'the').length).toBe(expected);
    expect(searchTokens(table, '  THE ').length).toBe(expected);
    expect(searchTokens(table, '').length).toBe(0);
    const all = data.sentences.flatMap((s) => s.tokens);
    for (const row of [0, 5, 17, 100, table.count - 1]) expect(table.frequency[row]).toBe(all.filter((t) => t === table.text[row]).length);
    expect(table.special[0]).toBe(1);
    expect(table.text[0]).toBe('[CLS]');
  });
});

describe('attention links', () => {
  it('are each query’s k strongest keys above the threshold, as a full sort finds them', () => {
    for (const [layer, head, sentence, k, threshold] of [
      [0, 0, 0, 2, 0.05],
      [3, 7, 5, 3, 0.1],
      [5, 11, 12, 1, 0],
    ]) {
      const first = data.sentenceStarts[sentence];
      const n = data.sentenceStarts[sentence + 1] - first;
      const block = sentenceBlock(data, layer, head, sentence);
      const links = topKLinks(block, n, first, false, k, threshold);
      const expected: string[] = [];
      for (let i = 0; i < n; i++) {
        const row = Array.from(block.subarray(i * n, (i + 1) * n), (w, j) => ({ w, j })).sort((a, b) => b.w - a.w);
        for (const { w, j } of row.slice(0, k)) if (w >= threshold) expected.push(`${first + i}->${first + j}:${w}`);
      }
      const got = Array.from(links.query, (q, x) => `${q}->${links.key[x]}:${links.weight[x]}`);
      expect(got).toEqual(expected);
      expect(got.length).toBeGreaterThan(0);
    }
  });

  it('renormalise over the tokens left when [CLS]/[SEP] are hidden, capped at 1', () => {
    const table = tokenTable(data);
    const sentence = 3;
    const first = data.sentenceStarts[sentence];
    const n = data.sentenceStarts[sentence + 1] - first;
    const block = sentenceBlock(data, 2, 4, sentence);
    const hidden = (p: number) => table.special[first + p] === 1;
    const { shown, weights } = sentenceAttention(block, n, hidden);
    expect(shown.length).toBe(n - 2);
    const m = shown.length;
    shown.forEach((i, a) => {
      let hiddenShare = 0;
      for (let j = 0; j < n; j++) if (hidden(j)) hiddenShare += block[i * n + j];
      let sum = 0;
      shown.forEach((j, b) => {
        const w = weights[a * m + b];
        expect(w).toBeLessThanOrEqual(1);
        expect(w).toBeCloseTo(Math.min(1, block[i * n + j] / (1 - hiddenShare)), 5);
        sum += w;
      });
      // Every row's weights sum to one again.
      expect(sum).toBeCloseTo(1, 4);
    });
    const none = sentenceAttention(block, n, () => false);
    expect(Array.from(none.weights)).toEqual(Array.from(block));
  });
});

describe('colour by', () => {
  const luminance = (c: ArrayLike<number>, i: number) => 0.2126 * c[i] + 0.7152 * c[i + 1] + 0.0722 * c[i + 2];

  it('gives queries and keys the reference colours, and ramps position light to dark', () => {
    const table = tokenTable(data);
    const n = table.count;
    const kind = pointColours(table, 'kind', 'reference');
    expect(Array.from(kind.subarray(0, 3))).toEqual(PALETTES.reference.query);
    expect(Array.from(kind.subarray(n * 3, n * 3 + 3))).toEqual(PALETTES.reference.key);
    const position = pointColours(table, 'position', 'reference');
    for (let s = 0; s < data.sentences.length; s++) {
      const first = data.sentenceStarts[s];
      const last = data.sentenceStarts[s + 1] - 1;
      for (const offset of [0, n]) {
        // Darker with every position along the sentence, for queries and keys alike.
        for (let row = first; row < last; row++) expect(luminance(position, (offset + row) * 3)).toBeGreaterThan(luminance(position, (offset + row + 1) * 3));
      }
    }
  });

  it('colours position mod 5 with five distinct colours, and frequency on a log ramp', () => {
    const table = tokenTable(data);
    const mod5 = pointColours(table, 'mod5', 'colourblind');
    const seen = new Map<number, string>();
    for (let row = 0; row < table.count; row++) {
      const colour = Array.from(mod5.subarray(row * 3, row * 3 + 3)).join(',');
      const m = table.position[row] % 5;
      expect(seen.get(m) ?? colour).toBe(colour);
      seen.set(m, colour);
    }
    expect(new Set(seen.values()).size).toBe(5);
    const maxFreq = Math.max(...table.frequency);
    for (let row = 0; row < table.count; row++) {
      expect(rampValue(table, 'frequency', row)).toBeCloseTo(Math.log(table.frequency[row]) / Math.log(maxFreq), 6);
    }
  });
});

describe('label placement', () => {
  it('places labels greedily in priority order, none overlapping, all on screen', () => {
    const random = seededRandom(7);
    const viewport = { width: 800, height: 600 };
    const boxes: (LabelBox | null)[] = Array.from({ length: 3000 }, (_, i) =>
      i % 50 === 0 ? null : { x: random() * 840 - 20, y: random() * 640 - 20, width: 20 + random() * 60, height: 14 },
    );
    const order = boxes.map((_, i) => i).reverse();
    const placed = placeLabels(boxes, order, viewport, 10_000);
    const overlap = (a: LabelBox, b: LabelBox) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    const inside = (b: LabelBox) => b.x >= 0 && b.y >= 0 && b.x + b.width <= viewport.width && b.y + b.height <= viewport.height;
    for (let a = 0; a < placed.length; a++) {
      expect(inside(boxes[placed[a]]!)).toBe(true);
      for (let b = a + 1; b < placed.length; b++) expect(overlap(boxes[placed[a]]!, boxes[placed[b]]!)).toBe(false);
    }
    // Greedy and maximal: every on-screen box left out collides with one placed before it.
    const rank = new Map(order.map((i, r) => [i, r]));
    const isPlaced = new Set(placed);
    boxes.forEach((box, i) => {
      if (!box || !inside(box) || isPlaced.has(i)) return;
      expect(placed.some((p) => rank.get(p)! < rank.get(i)! && overlap(boxes[p]!, box))).toBe(true);
    });
    expect(placed.length).toBeGreaterThan(100);
    expect(placeLabels(boxes, order, viewport, 25)).toEqual(placed.slice(0, 25));
  });
});
