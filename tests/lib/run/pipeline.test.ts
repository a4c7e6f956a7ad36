// The page's pipeline on the real model: extracting into a run store (window by window, with
// every head's sums gathered as the model runs) gives the vectors, normalizations, attention
// figures, check and first PCA layouts of the in-memory extraction and whole-head analysis;
// the figures scored afterwards from the store are the whole analysis's; the record written
// last opens the run, and a run stopped before it does not open; a cancel leaves nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Analysis, analyzeHeads } from '../../../lib/analysis/analyze';
import { type HeadNormalization, NORMALIZATION_MODES, type NormalizationMode } from '../../../lib/analysis/normalize';
import { tokenizeCorpus } from '../../../lib/corpus/tokenize';
import { type QueryKeyData, headVectors } from '../../../lib/data/layout';
import { extractQueryKeys } from '../../../lib/engine/extract';
import { FileStore } from '../../../lib/node/fileStore';
import { type NodeModel, openNodeModel } from '../../../lib/node/model';
import { pcaLayouts } from '../../../lib/projection/pcaViews';
import { runIntoStore } from '../../../lib/run/pipeline';
import { scoreStoredRun } from '../../../lib/run/score';
import { pendingAnalysis, withScores } from '../../../lib/run/stored';
import { MemoryStore } from '../../../lib/store/files';
import { RunReader, RunUnfinishedError } from '../../../lib/store/runStore';
import { CancelledError } from '../../../lib/util/cancel';
import { defaultSentences } from '../../helpers/extraction';
import { DEFAULT_MODEL_DIR } from '../../helpers/models';

let model: NodeModel;
let data: QueryKeyData;
let analysis: Analysis;
const sentences = defaultSentences().slice(0, 90);
const corpus = () => tokenizeCorpus(model.tokenizer, sentences, 512);

beforeAll(async () => {
  model = await openNodeModel(DEFAULT_MODEL_DIR);
  data = await extractQueryKeys(model.runner, model.manifest.name, model.manifest, corpus());
  analysis = await analyzeHeads(data);
});
afterAll(async () => {
  await model?.runner.release();
});

const close = (a: number, b: number, tolerance: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(b)));

describe.each([
  ['memory', () => new MemoryStore()],
  ['disk', () => new FileStore(mkdtempSync(join(tmpdir(), 'qkviz-pipeline-')))],
] as const)('a run into the store (%s)', (_, makeStore) => {
  it('gives the in-memory run’s vectors, normalizations, checks and first layouts, then its figures from the store', async () => {
    const root = makeStore();
    // Windows of ~300 rows: the corpus goes in several, sums gathered across them.
    const draft = await runIntoStore(model.runner, model.manifest, corpus(), {
      root,
      id: 'r',
      dtype: 'float32',
      pca: [{ mode: 'optimized', dims: 3 }],
      windowBytes: 300 * 144 * 32 * 4,
    });
    expect(draft.times.modelMs).toBeGreaterThan(0);
    for (const cell of [0, 13, 71]) {
      const want = headVectors(data, Math.floor(cell / 12), cell % 12);
      const got = await draft.vectors.head(cell);
      let worst = 0;
      for (let i = 0; i < want.q.length; i++) worst = Math.max(worst, Math.abs(got.q[i] - want.q[i]), Math.abs(got.k[i] - want.k[i]));
      expect(worst).toBeLessThan(1e-5);
    }
    draft.heads.forEach((h, cell) => {
      for (const mode of NORMALIZATION_MODES) close(h.params[mode].scale, analysis.params[mode][cell].scale, 1e-4);
      close(h.attention.entropy, analysis.heads[cell].attention.entropy, 1e-6);
      expect(h.check.maxAbsError).toBeLessThan(1e-5);
    });
    const want = await pcaLayouts(data, analysis.params, [{ mode: 'optimized', dims: 3 }]);
    let layoutWorst = 0;
    draft.layouts[0].heads.forEach((c, cell) => c.forEach((v, i) => (layoutWorst = Math.max(layoutWorst, Math.abs(v - want[0].heads[cell][i])))));
    expect(layoutWorst).toBeLessThan(1e-3);

    // Not finished yet: nothing opens it.
    await expect(RunReader.open(root, 'r')).rejects.toThrow(RunUnfinishedError);
    const pending = pendingAnalysis(draft.data, draft.heads);
    expect(pending.scored).toBe(false);
    expect(pending.heads[5].metrics.optimized.weightedDistanceRatio).toBeNaN();
    await draft.writer.finish({ label: 'x' });
    const reader = await RunReader.open<{ label: string }>(root, 'r');
    expect(reader.record.extra.label).toBe('x');
    const perHead = Array.from(
      { length: 72 },
      (_, c) => Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, pending.params[m][c]])) as Record<NormalizationMode, HeadNormalization>,
    );
    const scored = withScores(pending, await scoreStoredRun(reader, draft.data, perHead));
    expect(scored.scored).toBe(true);
    scored.heads.forEach((h, cell) => {
      for (const mode of NORMALIZATION_MODES) {
        close(h.metrics[mode].weightedDistanceRatio, analysis.heads[cell].metrics[mode].weightedDistanceRatio, 1e-3);
        close(h.metrics[mode].distanceCorrelation, analysis.heads[cell].metrics[mode].distanceCorrelation, 1e-3);
      }
    });
  });
});

describe('a cancelled run into the store', () => {
  it('stops and leaves no run behind', async () => {
    const root = new MemoryStore();
    const controller = new AbortController();
    let batches = 0;
    await expect(
      runIntoStore(model.runner, model.manifest, corpus(), {
        root,
        id: 'c',
        dtype: 'float16',
        signal: controller.signal,
        afterStep: async () => {
          if (++batches === 2) controller.abort();
        },
      }),
    ).rejects.toThrow(CancelledError);
    expect(await root.folders()).toEqual([]);
  });
});
