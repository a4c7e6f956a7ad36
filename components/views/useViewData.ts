'use client';
// What the views compute from the shown result and the view settings: per-point colours and
// highlight states, search matches, label priorities, attention links of the selection, norm
// ramps and the matrix overlay. Each piece is recomputed only when what it depends on changes.
import { useCallback, useMemo } from 'react';
import { useAsync } from './useAsync';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import type { RunResult } from '@/lib/run/types';
import { seededRandom } from '@/lib/util/random';
import { PALETTES, colourValueText, legendFor, pointColours } from '@/lib/views/colour';
import { overlayColours } from '@/lib/views/headFigures';
import { labelPriority, shuffledPoints } from '@/lib/views/labels';
import { SAMPLE_SEED, sampleOrder } from '@/lib/views/lod';
import { type LinkWeight, topKLinks, valueWeightedBlock } from '@/lib/views/links';
import { sentenceAttention } from '@/lib/analysis/attention';
import { openVectors } from '@/lib/browser/vectors';
import { type PointNorms, pointNorms, pointValueNorms } from '@/lib/views/norms';
import { patchMeans } from '@/lib/views/patches';
import { type TokenTable, pointToken, searchImages, searchTokens, tokenTable } from '@/lib/views/tokens';
import { STATE } from '../canvas/pointMaterial';
import { type ThumbAtlas, thumbAtlas } from '../canvas/thumbs';
import { useView } from '../state/viewStore';

/** Seed of the level-of-detail sample: the same points are drawn for a result every time. */
/** Longest sentence text shown in a tooltip line. */
const TOOLTIP_SENTENCE_CHARS = 90;
const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// Built once per result (its data), whichever component asks first.
function perResult<T>(cache: WeakMap<object, T>, result: RunResult, make: () => T): T {
  let value = cache.get(result.data);
  if (value === undefined) cache.set(result.data, (value = make()));
  return value;
}

const tables = new WeakMap<object, TokenTable>();
export const tableOf = (result: RunResult): TokenTable => perResult(tables, result, () => tokenTable(result.data));

const orders = new WeakMap<object, Int32Array>();
/** The sample order of a head's points for this result's level of detail. */
export const sampleOrderOf = (result: RunResult): Int32Array =>
  perResult(orders, result, () => sampleOrder(result.data.sentenceStarts, result.data.tokenCount, seededRandom(SAMPLE_SEED)));

const norms = new WeakMap<object, Map<NormalizationMode, Promise<PointNorms>>>();
/** Every head's point norms in a mode, read from the run's store once per result and mode. */
function normsOf(result: RunResult, mode: NormalizationMode): Promise<PointNorms> {
  const byMode = perResult(norms, result, () => new Map<NormalizationMode, Promise<PointNorms>>());
  let n = byMode.get(mode);
  if (!n) byMode.set(mode, (n = openVectors(result.vectors!).then((v) => pointNorms(result.data, v, result.analysis.params[mode]))));
  return n;
}

const valueNorms = new WeakMap<object, Promise<PointNorms>>();
/** Every head's value norms as point norms, read from the run's store once per result. */
const valueNormsOf = (result: RunResult): Promise<PointNorms> =>
  perResult(valueNorms, result, () => openVectors(result.vectors!).then((v) => pointValueNorms(result.data, v)));

const pictures = new WeakMap<object, Promise<Uint8Array | null>>();
/** An image run's pictures (uint8 [image][height][width][3]), read from its store once per result. */
export const picturesOf = (result: RunResult): Promise<Uint8Array | null> =>
  perResult(pictures, result, () => (result.data.images && result.vectors ? openVectors(result.vectors).then((v) => v.pictures()) : Promise.resolve(null)));

const atlases = new WeakMap<object, Promise<ThumbAtlas | null>>();
/** An image run's pictures as the thumbnails' texture atlas, made once per result. */
export const atlasOf = (result: RunResult): Promise<ThumbAtlas | null> =>
  perResult(atlases, result, () => picturesOf(result).then((p) => (p && result.data.images ? thumbAtlas(p, result.data.images) : null)));

/**
 * The selected point's token, sentence and attention block in the focused head (recomputed
 * from the sentence's stored Q/K), weighed as the view asks: attention, or ‖α·f(x)‖ where
 * the run has value norms (`weight` says which the block is).
 */
export function useSelection(result: RunResult) {
  const { data } = result;
  const table = tableOf(result);
  const selected = useView((s) => s.selected);
  const focus = useView((s) => s.focus);
  const linkK = useView((s) => s.linkK);
  const threshold = useView((s) => s.threshold);
  const asked = useView((s) => s.linkWeight);
  const weight: LinkWeight = asked === 'value' && data.hasValueNorms ? 'value' : 'attention';
  const N = data.tokenCount;
  const point = selected !== null && selected < 2 * N ? pointToken(selected, N) : null;
  const sentence = point ? table.sentence[point.row] : null;
  const cell = focus ? focus.layer * data.heads + focus.head : null;
  const block = useAsync(
    () =>
      result.vectors && cell !== null && sentence !== null
        ? openVectors(result.vectors).then(async (v) => {
            const { qa, ka } = await v.sentence(cell, sentence);
            const n = qa.length / data.headDim;
            const attention = sentenceAttention(qa, ka, data.headDim, 0, n, data.attention[Math.floor(cell / data.heads)], data.causal ?? false);
            if (weight === 'attention') return attention;
            const norms = await v.valueNorms(cell, data.sentenceStarts[sentence], n);
            return norms ? valueWeightedBlock(attention, n, norms) : attention;
          })
        : null,
    [result, cell, sentence, weight],
  );
  const links = useMemo(() => {
    if (!block || sentence === null) return null;
    const first = data.sentenceStarts[sentence];
    return topKLinks(block, data.sentenceStarts[sentence + 1] - first, first, data.causal ?? false, linkK, threshold);
  }, [block, sentence, data, linkK, threshold]);
  return { table, point, sentence, links, block, focus, weight };
}

export function useViewData(result: RunResult) {
  const { data, analysis } = result;
  const N = data.tokenCount;
  const table = tableOf(result);
  const mode = useView((s) => s.mode);
  const compare = useView((s) => s.compare);
  const colourMode = useView((s) => s.colourMode);
  const palette = useView((s) => s.palette);
  const overlay = useView((s) => s.overlay);
  const search = useView((s) => s.search);
  const sizeByNorm = useView((s) => s.sizeByNorm);
  const selected = useView((s) => s.selected);
  const { sentence, links, focus } = useSelection(result);
  const thumbnails = useView((s) => s.thumbnails);
  const atlas = useAsync(() => (data.images && thumbnails ? atlasOf(result) : null), [result, thumbnails]);

  const patchColours = colourMode === 'patchColour' || colourMode === 'brightness';
  const means = useAsync(
    () => (data.images && patchColours ? picturesOf(result).then((p) => (p ? patchMeans(p, data.images!, data.sentences.length) : null)) : null),
    [result, patchColours],
  );
  const colours = useMemo(() => pointColours(table, colourMode, palette, means), [table, colourMode, palette, means]);
  const matches = useMemo(
    () =>
      data.images
        ? searchImages(
            table,
            data.sentences.map((s) => s.text),
            search,
          )
        : searchTokens(table, search),
    [table, search, data],
  );
  const searching = search.trim() !== '';
  // A bundle opened without its vectors has no norms: colour and size fall back to the plain ones.
  const byValue = colourMode === 'valueNorm' && data.hasValueNorms === true;
  const needNorms = (colourMode === 'norm' || byValue || sizeByNorm) && result.vectors !== null;
  // Value norms do not depend on the normalization: both panes of a comparison show the same.
  const modeNorms = useAsync(() => (needNorms ? (byValue ? valueNormsOf(result) : normsOf(result, mode)) : null), [needNorms, byValue, result, mode]);
  const rawNorms = useAsync(
    () => (needNorms && compare === 'normalization' ? (byValue ? valueNormsOf(result) : normsOf(result, 'raw')) : null),
    [needNorms, byValue, compare, result],
  );

  const pointState = useMemo(() => {
    const out = new Uint8Array(2 * N * 4);
    const matched = new Uint8Array(N);
    for (const r of matches) matched[r] = 1;
    const dimOthers = sentence !== null || searching;
    for (let p = 0; p < 2 * N; p++) {
      const row = p < N ? p : p - N;
      out.set(colours.subarray(p * 3, p * 3 + 3), p * 4);
      let state: number = dimOthers ? STATE.faded : STATE.normal;
      if (sentence !== null && table.sentence[row] === sentence) state = STATE.highlighted;
      if (matched[row] || p === selected) state = STATE.match;
      out[p * 4 + 3] = state;
    }
    return out;
  }, [N, colours, matches, sentence, selected, searching, table]);

  const shuffled = useMemo(() => shuffledPoints(2 * N, seededRandom(1)), [N]);
  const labelOrder = useMemo(() => {
    const first: number[] = selected === null ? [] : [selected];
    if (sentence !== null) {
      for (let r = data.sentenceStarts[sentence]; r < data.sentenceStarts[sentence + 1]; r++) first.push(r, N + r);
    }
    for (const r of matches) first.push(r, N + r);
    // While a sentence or a search is highlighted, only highlighted points are labelled.
    return sentence !== null || searching ? Int32Array.from(new Set(first)) : labelPriority(2 * N, shuffled, first);
  }, [selected, sentence, matches, searching, shuffled, data, N]);

  const overlayData = useMemo(() => (overlay === 'none' ? null : overlayColours(analysis, overlay, mode)), [analysis, overlay, mode]);
  const legend = useMemo(() => legendFor(table, colourMode, palette), [table, colourMode, palette]);
  const ramps = useMemo(() => ({ query: PALETTES[palette].queryRamp, key: PALETTES[palette].keyRamp }), [palette]);

  /** Tooltip lines for a point of the focused head (the colour value only when it adds something). */
  const describe = useCallback(
    (point: number, pointNormsRaw: Float32Array | null) => {
      const { row, kind } = pointToken(point, N);
      const s = table.sentence[row];
      const cell = focus ? focus.layer * data.heads + focus.head : 0;
      const lines = [
        `${table.text[row]} · ${kind}`,
        `Sentence ${s + 1}: ${truncate(data.sentences[s].text, TOOLTIP_SENTENCE_CHARS)}`,
        `Position ${table.position[row] + 1} of ${table.sentenceLength[row]}`,
      ];
      if (colourMode !== 'kind') lines.push(colourValueText(table, colourMode, row, kind, pointNormsRaw ? pointNormsRaw[cell * 2 * N + point] : null));
      return lines;
    },
    [N, table, data, focus, colourMode],
  );
  const labelText = useCallback((point: number) => table.text[point < N ? point : point - N], [table, N]);

  return { table, pointState, labelOrder, links, overlayData, legend, ramps, modeNorms, rawNorms, describe, labelText, matches, searching, atlas };
}
