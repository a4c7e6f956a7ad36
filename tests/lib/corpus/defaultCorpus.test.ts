// The default corpus is what the product promises: 300+ distinct sentences, about 5,000
// tokens with the default model's tokenizer, and varied enough to give heads something to show.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { parseCorpus } from '../../../lib/corpus/parse';
import { loadTokenizer } from '../../../lib/model/tokenizer';
import { DEFAULT_MODEL, DEFAULT_MODEL_DIR, MODELS_DIR, ROOT, requireFile } from '../../helpers/models';
import { referenceWordPiece } from '../../helpers/wordpiece';

const text = readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8');
const { sentences, blankLines } = parseCorpus(text);
let tokenizer: PreTrainedTokenizer;

beforeAll(async () => {
  tokenizer = await loadTokenizer({ kind: 'local', modelsPath: MODELS_DIR, name: DEFAULT_MODEL });
});

describe('default corpus', () => {
  it('has at least 300 distinct sentences, no blank lines, and the seed’s capybara', () => {
    expect(sentences.length).toBeGreaterThanOrEqual(300);
    expect(blankLines).toBe(0);
    expect(new Set(sentences).size).toBe(sentences.length);
    expect(sentences).toContain('The brown capybara is sleeping now.');
  });

  it('is about 5,000 tokens with the model’s tokenizer, no sentence near the 512 limit', () => {
    const lengths = sentences.map((s) => tokenizer.encode(s).length);
    const total = lengths.reduce((a, b) => a + b, 0);
    console.log(
      `[qkviz] default corpus: ${sentences.length} sentences, ${total} tokens with [CLS]/[SEP] (${total - 2 * sentences.length} without), longest ${Math.max(...lengths)}`,
    );
    expect(total).toBeGreaterThan(4500);
    expect(total).toBeLessThan(5600);
    expect(Math.max(...lengths)).toBeLessThan(128);
  });

  it('is varied on purpose: questions, dialogue, numbers, punctuation-heavy lines, short and long sentences', () => {
    const count = (re: RegExp) => sentences.filter((s) => re.test(s)).length;
    expect(count(/\?$/)).toBeGreaterThanOrEqual(20);
    expect(count(/^"/)).toBeGreaterThanOrEqual(15);
    expect(count(/\d/)).toBeGreaterThanOrEqual(40);
    expect(count(/[;:!()—]/)).toBeGreaterThanOrEqual(30);
    expect(count(/\b(he|she|it|they|her|his|its|their)\b/i)).toBeGreaterThanOrEqual(60);
    expect(sentences.filter((s) => s.split(/\s+/).length <= 3).length).toBeGreaterThanOrEqual(15);
    expect(sentences.filter((s) => s.split(/\s+/).length >= 25).length).toBeGreaterThanOrEqual(5);
  });

  it('is tokenized by the shipped tokenizer files exactly as a reference WordPiece does', () => {
    const vocabLines = readFileSync(requireFile(join(DEFAULT_MODEL_DIR, 'vocab.txt')), 'utf8').split('\n');
    const vocab = new Map(vocabLines.map((w, i) => [w, i]));
    const mismatches = sentences.filter((s) => tokenizer.tokenize(s).join(' ') !== referenceWordPiece(s, vocab).join(' '));
    expect(mismatches).toEqual([]);
  });
});
