// What the corpus card says before a run agrees with what the run does: the token count after
// splitting long sentences, the longest sentence, the memory estimate and the refusal are the
// figures tokenizeCorpus and the model worker's memory check arrive at on their own.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../../../lib/corpus/count';
import { corpusFacts } from '../../../lib/run/plan';
import { CorpusTooLargeError, assertFitsMemory, estimateRunBytes } from '../../../lib/run/plan';
import { tokenizeCorpus } from '../../../lib/corpus/tokenize';
import { loadTokenizer } from '../../../lib/model/tokenizer';
import { DEFAULT_MODEL, MODELS_DIR } from '../../helpers/models';
import { defaultSentences } from '../../helpers/extraction';

const shape = { layers: 6, heads: 12, headDim: 32, maxTokens: 512 };

describe('corpus facts before a run', () => {
  it('match the run’s own tokenization, long sentences split into parts', async () => {
    const tokenizer = await loadTokenizer({ kind: 'local', modelsPath: MODELS_DIR, name: DEFAULT_MODEL });
    const long = Array.from({ length: 1300 }, (_, i) => ['alpha', 'beta', 'gamma', 'delta'][i % 4]).join(' ');
    const sentences = [...defaultSentences().slice(0, 30), long, 'Short.'];
    const progress: number[] = [];
    const lengths = await countTokens(tokenizer, sentences, { onProgress: (done) => progress.push(done) });
    const facts = corpusFacts(lengths, shape);
    const run = tokenizeCorpus(tokenizer, sentences, shape.maxTokens);
    const parts = run.sentences.map((s) => s.ids.length);
    expect(facts.tokens).toBe(run.tokenCount);
    expect(facts.longest).toBe(Math.max(...sentences.map((s) => tokenizer.encode(s).length)));
    expect(facts.overLimit).toBe(run.notices.length);
    expect(facts.memory).toEqual(estimateRunBytes(shape, parts));
    expect(facts.headPairs).toBe(72 * run.sentences.reduce((n, s) => n + s.ids.length ** 2, 0));
    expect(facts.refusal).toBeNull();
    expect(progress.at(-1)).toBe(sentences.length);
  });

  it('refuse with the same words as the model worker', () => {
    const lengths = Array.from({ length: 19_000 }, () => 512);
    const facts = corpusFacts(lengths, shape);
    let thrown = '';
    try {
      assertFitsMemory(shape, lengths);
    } catch (e) {
      expect(e).toBeInstanceOf(CorpusTooLargeError);
      thrown = (e as Error).message;
    }
    expect(facts.refusal).toBe(thrown);
    expect(facts.refusal).toMatch(/19,000 sentences, 9,728,000 tokens\) would need about [\d.]+ GB of tab memory/);
    expect(
      corpusFacts(
        Array.from({ length: 20_001 }, () => 3),
        shape,
      ).refusal,
    ).toMatch(/20,001 sentences; QKViz takes at most 20,000/);
  });
});
