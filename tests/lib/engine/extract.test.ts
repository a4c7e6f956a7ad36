// The engine on the real default model in Node: asked for the model's attention on every
// sentence, every layer, head and sentence of the default corpus has attention equal to
// softmax(QKᵀ/√d) of the extracted Q/K; by default it asks only for a sample spread over the
// corpus; the window a sentence falls in and the batch it was padded into do not change its
// Q/K; long sentences are split visibly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCorpus } from '../../../lib/corpus/parse';
import { checkAttention } from '../../../lib/analysis/attentionCheck';
import { extractQueryKeys, planBatches, planWindows, sampleSentences } from '../../../lib/engine/extract';
import { type QueryKeyData, headVectors, sampleOf } from '../../../lib/data/layout';
import { BATCH_ATTENTION_BUDGET, BATCH_TOKEN_BUDGET } from '../../../lib/engine/limits';
import { CorpusTooLargeError, assertFitsMemory } from '../../../lib/run/plan';
import { tokenizeCorpus } from '../../../lib/corpus/tokenize';
import { type NodeModel, openNodeModel } from '../../../lib/node/model';
import { softmaxBlock } from '../../helpers/attention';
import { DEFAULT_MODEL_DIR, ROOT } from '../../helpers/models';

let model: NodeModel;
let data: QueryKeyData;
const sentences = parseCorpus(readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8')).sentences;

beforeAll(async () => {
  model = await openNodeModel(DEFAULT_MODEL_DIR);
  // The model's attention for every sentence, as `qkviz extract --attention` asks for it.
  data = await extractQueryKeys(model.runner, model.manifest.name, model.manifest, tokenizeCorpus(model.tokenizer, sentences, 512), {
    sample: Int32Array.from(sentences, (_, i) => i),
  });
});
afterAll(async () => {
  await model?.runner.release();
});

describe('extractQueryKeys on the default corpus', () => {
  it('lays tokens out as documented: [CLS] first, [SEP] last, starts in order', () => {
    expect(data.tokenCount).toBe(data.sentences.reduce((n, s) => n + s.ids.length, 0));
    expect(data.queries.length).toBe(6 * 12 * data.tokenCount * 32);
    data.sentences.forEach((s, i) => {
      expect(s.start).toBe(data.sentenceStarts[i]);
      expect(s.tokens[0]).toBe('[CLS]');
      expect(s.tokens[s.tokens.length - 1]).toBe('[SEP]');
    });
    expect(data.sentences[0].tokens).toEqual(['[CLS]', 'the', 'brown', 'cap', '##y', '##bara', 'is', 'sleeping', 'now', '.', '[SEP]']);
  });

  it('gives attention equal to softmax(q·k/√d) of the extracted Q/K for every layer, head and sentence (≤ 1e-5)', () => {
    let maxError = 0;
    const blocks = data.attentionSample.blocks;
    for (let l = 0; l < data.layers; l++) {
      for (let h = 0; h < data.heads; h++) {
        const { q, k } = headVectors(data, l, h);
        const a = sampleOf(data.attentionSample, l * data.heads + h);
        data.sentences.forEach((s, si) => {
          const n = s.ids.length;
          const rows = softmaxBlock(q, k, data.headDim, data.sentenceStarts[si], n);
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) maxError = Math.max(maxError, Math.abs(rows[i][j] - a[blocks[si] + i * n + j]));
        });
      }
    }
    console.log(`[qkviz] Node (onnxruntime-node, cpu): max attention error over the default corpus = ${maxError.toExponential(2)}`);
    expect(maxError).toBeLessThanOrEqual(1e-5);
    // lib's own check (printed by the CLI) agrees, and notices a corrupted query.
    expect(checkAttention(data).maxAbsError).toBeCloseTo(maxError, 7);
    const queries = data.queries.slice();
    queries[5 * 32 + 3] += 0.5;
    expect(checkAttention({ ...data, queries }).maxAbsError).toBeGreaterThan(1e-3);
  });

  it('asks the model for attention on a sample spread over the corpus by default, the same values as for the whole corpus', async () => {
    const some = sentences.slice(0, 120);
    const sampled = await extractQueryKeys(model.runner, 'x', model.manifest, tokenizeCorpus(model.tokenizer, some, 512));
    const chosen = Array.from(sampled.attentionSample.sentences);
    expect(chosen).toEqual(
      Array.from(
        sampleSentences(
          some.map((_, i) => data.sentences[i].ids.length),
          72,
        ),
      ),
    );
    expect(chosen.length).toBe(24);
    expect(chosen[0]).toBeLessThan(5);
    expect(chosen[23]).toBeGreaterThan(110);
    // Only the sample's attention is held: Σ n² of 24 sentences, not of 120.
    const squares = chosen.reduce((n, s) => n + data.sentences[s].ids.length ** 2, 0);
    expect(sampled.attentionSample.values.length).toBe(72 * squares);
    const cell = 4 * 12 + 7;
    const mine = sampleOf(sampled.attentionSample, cell);
    const all = sampleOf(data.attentionSample, cell);
    const s = chosen[5];
    const n = data.sentences[s].ids.length;
    const at = sampled.attentionSample.blocks[5];
    for (let p = 0; p < n * n; p++) expect(Math.abs(mine[at + p] - all[data.attentionSample.blocks[s] + p])).toBeLessThan(1e-5);
    expect(checkAttention(sampled).maxAbsError).toBeLessThan(1e-5);
  });

  it('gives the same Q/K whatever window a sentence falls in', async () => {
    const some = sentences.slice(0, 50);
    const corpus = tokenizeCorpus(model.tokenizer, some, 512);
    // 200 tokens of Q/K a window here: the 50 sentences (~700 tokens) go in several.
    const windowBytes = 200 * (72 + 72) * 32 * 4;
    expect(
      planWindows(
        corpus.sentences.map((s) => s.ids.length),
        200,
      ).length,
    ).toBeGreaterThan(3);
    const windowed = await extractQueryKeys(model.runner, 'x', model.manifest, corpus, { windowBytes });
    const whole = await extractQueryKeys(model.runner, 'x', model.manifest, corpus);
    let maxDiff = 0;
    for (let i = 0; i < whole.queries.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(whole.queries[i] - windowed.queries[i]), Math.abs(whole.keys[i] - windowed.keys[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });

  it('gives a sentence the same Q/K alone as inside a padded batch (≤ 1e-5)', async () => {
    const picks = [0, 7, 183];
    const alone = await extractQueryKeys(
      model.runner,
      'x',
      model.manifest,
      tokenizeCorpus(
        model.tokenizer,
        picks.map((i) => sentences[i]),
        512,
      ),
      { maxBatch: 1 },
    );
    let maxDiff = 0;
    picks.forEach((sentence, p) => {
      const n = alone.sentences[p].ids.length;
      for (let l = 0; l < 6; l++) {
        for (let h = 0; h < 12; h++) {
          const batched = headVectors(data, l, h);
          const single = headVectors(alone, l, h);
          for (let t = 0; t < n * 32; t++) {
            const a = data.sentenceStarts[sentence] * 32 + t;
            const b = alone.sentenceStarts[p] * 32 + t;
            maxDiff = Math.max(maxDiff, Math.abs(batched.q[a] - single.q[b]), Math.abs(batched.k[a] - single.k[b]));
          }
        }
      }
    });
    // The batched run really padded these sentences: the batch they fell in holds longer ones.
    const lengths = data.sentences.map((s) => s.ids.length);
    const batchOf = planBatches(lengths).find((b) => b.includes(0))!;
    expect(Math.max(...batchOf.map((s) => lengths[s]))).toBeGreaterThan(lengths[0]);
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });

  it('splits a sentence longer than 512 tokens into parts with their own [CLS]/[SEP], and says so', () => {
    const long = Array.from({ length: 700 }, (_, i) => `word${i % 10}`).join(' ');
    const corpus = tokenizeCorpus(model.tokenizer, ['Short one.', long], 512);
    expect(corpus.notices).toHaveLength(1);
    expect(corpus.notices[0]).toMatch(/Sentence 2 has \d+ tokens, more than the model's 512; it was split into \d parts/);
    const parts = corpus.sentences.filter((s) => s.part);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.ids.length).toBeLessThanOrEqual(512);
      expect(p.tokens[0]).toBe('[CLS]');
      expect(p.tokens[p.tokens.length - 1]).toBe('[SEP]');
    }
    const content = parts.reduce((n, p) => n + p.ids.length - 2, 0);
    expect(content).toBe(model.tokenizer.encode(long).length - 2);
  });
});

describe('planBatches and the memory guard', () => {
  it('puts every sentence in exactly one batch within the token and attention budgets', () => {
    const lengths = Array.from({ length: 500 }, (_, i) => 3 + ((i * 37) % 200));
    const batches = planBatches(lengths);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const b of batches) {
      const w = Math.max(...b.map((s) => lengths[s]));
      if (b.length > 1) {
        expect(b.length * w).toBeLessThanOrEqual(BATCH_TOKEN_BUDGET);
        expect(b.length * w * w).toBeLessThanOrEqual(BATCH_ATTENTION_BUDGET);
      }
    }
  });

  it('refuses a corpus that would exhaust a tab’s memory, with the numbers', () => {
    const lengths = Array.from({ length: 120_000 }, () => 30);
    expect(() => assertFitsMemory({ layers: 6, heads: 12, headDim: 32 }, lengths)).toThrow(CorpusTooLargeError);
    expect(() => assertFitsMemory({ layers: 6, heads: 12, headDim: 32 }, lengths)).toThrow(
      /3,600,000 tokens\) would need about [\d.]+ GB .* at most about [\d,]+ tokens/,
    );
    // No attention is held: about 40k tokens of 30-token sentences fit where ~15k did.
    expect(assertFitsMemory({ layers: 6, heads: 12, headDim: 32 }, lengths.slice(0, 1300)).bytes).toBeLessThan(1.5 * 1024 ** 3);
    expect(assertFitsMemory({ layers: 6, heads: 12, headDim: 32 }, [20, 30]).bytes).toBeGreaterThan(0);
  });
});
