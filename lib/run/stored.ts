// A run as the page's store keeps it (lib/store/runStore): its record's extra is what the page
// shows (model card, device, timings, the analysis), figures.json holds the figures once they
// are scored. From these a stored run is shown again without running the model.
import type { Analysis, HeadScore } from '../analysis/analyze';
import { worstCheck } from '../analysis/analyze';
import { headMetrics } from '../analysis/metrics';
import { NORMALIZATION_MODES } from '../analysis/normalize';
import type { FinishedHead } from '../analysis/sums';
import { type AttentionSample, type RunData, corpusLayout } from '../data/layout';
import { jsonReplacer, jsonReviver } from '../io/json';
import type { StoreRoot } from '../store/files';
import { type RunReader, type StoredRun, VALUE_NORMS_FILE, imageLayoutOf, storedShapeOf } from '../store/runStore';
import type { RunResult, StoredRunExtra } from './types';

export const FIGURES_FILE = 'figures.json';

const NO_FIGURES = { distance: NaN, weighted: NaN, argmaxRatio: NaN, weightedRatio: NaN, seed: NaN };

/** The analysis a run has when its matrix is ready: normalizations, attention figures and checks; figures NaN until scored. */
export function pendingAnalysis(data: RunData, heads: FinishedHead[]): Analysis {
  return {
    scored: false,
    heads: heads.map((h, cell) => ({
      layer: Math.floor(cell / data.heads),
      head: cell % data.heads,
      metrics: Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, headMetrics(NO_FIGURES, h.params[m])])) as Analysis['heads'][number]['metrics'],
      attention: h.attention,
      check: h.check,
    })),
    params: Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, heads.map((h) => h.params[m])])) as Analysis['params'],
    attentionCheck: worstCheck(heads.map((h) => h.check)),
  };
}

/** The analysis with every head's figures in. */
export function withScores(analysis: Analysis, scores: HeadScore[]): Analysis {
  const byCell = new Map(scores.map((s) => [s.cell, s.metrics]));
  return { ...analysis, scored: true, heads: analysis.heads.map((h, c) => ({ ...h, metrics: byCell.get(c) ?? h.metrics })) };
}

/** A stored run's data (shape, tokens, the attention sample) from its record. */
export function runDataOfRecord(record: StoredRun<unknown>, attentionSample: AttentionSample): RunData {
  const { shape } = record;
  const sentenceStarts = corpusLayout(record.sentences.map((s) => s.ids.length)).sentenceStarts;
  return {
    ...storedShapeOf(shape),
    tokenCount: record.tokenCount,
    sentences: record.sentences.map((s, i) => ({ ...s, start: sentenceStarts[i] })),
    sentenceStarts,
    attention: record.attention,
    attentionSample,
    ...(VALUE_NORMS_FILE in record.checksums ? { hasValueNorms: true } : {}),
    ...(record.images ? { images: imageLayoutOf(record.images) } : {}),
  };
}

export async function writeRunJson(root: StoreRoot, id: string, name: string, value: unknown): Promise<void> {
  const folder = await root.folder(id);
  if (!folder) throw new Error(`no run ${id}`);
  const file = await folder.create(name);
  await file.write(new TextEncoder().encode(JSON.stringify(value, jsonReplacer)), 0);
  await file.close();
}

export async function readRunJson<T>(root: StoreRoot, id: string, name: string): Promise<T | null> {
  const file = await (await root.folder(id))?.open(name);
  if (!file) return null;
  try {
    return JSON.parse(new TextDecoder().decode(await file.read(0, file.size)), jsonReviver) as T;
  } catch {
    return null;
  }
}

/** A stored run as the page shows it (its figures from figures.json when scored). */
export async function storedRunResult(root: StoreRoot, reader: RunReader<StoredRunExtra>): Promise<RunResult> {
  const { extra } = reader.record;
  const data = runDataOfRecord(reader.record, await reader.attentionSample());
  const scores = await readRunJson<HeadScore[]>(root, reader.record.id, FIGURES_FILE);
  const analysis = scores ? withScores(reviveAnalysis(extra.analysis), scores) : reviveAnalysis(extra.analysis);
  return {
    manifest: extra.manifest,
    device: extra.device,
    data,
    vectors: { kind: 'store', id: reader.record.id },
    analysis,
    notices: extra.notices,
    timings: extra.timings,
    attentionError: extra.attentionError,
  };
}

/** JSON made the translations plain arrays: back to what the views read. */
function reviveAnalysis(a: Analysis): Analysis {
  return {
    ...a,
    params: Object.fromEntries(
      NORMALIZATION_MODES.map((m) => [m, a.params[m].map((p) => ({ translation: Float64Array.from(p.translation), scale: p.scale }))]),
    ) as Analysis['params'],
  };
}
