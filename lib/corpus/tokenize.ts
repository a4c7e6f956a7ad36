// Tokenizes a corpus for extraction: ids with the model's special tokens, token strings,
// and each sentence's first row in the flat [token] arrays. A sentence longer than the
// model allows is split into parts (each with the special tokens its tokenizer adds: BERT's
// [CLS] … [SEP], a Llama BOS, none for GPT-2) and reported.
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { TokenizedSentence } from '../data/layout';

export type { TokenizedSentence };

export interface TokenizedCorpus {
  sentences: TokenizedSentence[];
  tokenCount: number;
  /**
   * An image corpus (lib/corpus/images.ts), in sentence order: each image's model input
   * [3][H][W], and the 8-bit picture it was made from ([H][W][3]: what thumbnails draw).
   */
  pixels?: { values: Float32Array[]; pictures: Uint8Array[]; height: number; width: number };
  /** Plain-language notes on what was changed to make the corpus fit (splits). */
  notices: string[];
}

/** Id → token string table, built once per tokenizer. */
export function vocabularyOf(tokenizer: PreTrainedTokenizer): string[] {
  const vocab = tokenizer.get_vocab() as Map<string, number> | Record<string, number>;
  const entries = vocab instanceof Map ? [...vocab.entries()] : Object.entries(vocab);
  const table: string[] = [];
  for (const [token, id] of entries) table[id] = token;
  return table;
}

/**
 * Token counts of the parts a sentence of `n` tokens (special tokens included) is read as:
 * itself when it fits, else parts of at most `maxTokens`, each with its own first and last
 * special token (as tokenizeCorpus splits it).
 */
export function partLengths(n: number, maxTokens: number): number[] {
  if (n <= maxTokens) return [n];
  const room = maxTokens - 2;
  const content = n - 2;
  return Array.from({ length: Math.ceil(content / room) }, (_, p) => Math.min(room, content - p * room) + 2);
}

/** How many special tokens the tokenizer puts before and after a text's own (its defaults, e.g. [CLS] x [SEP] → 1, 1). */
export function specialFrame(tokenizer: PreTrainedTokenizer): { lead: number; trail: number } {
  const bare = tokenizer.encode('a', { add_special_tokens: false });
  const full = tokenizer.encode('a');
  for (let lead = 0; lead + bare.length <= full.length; lead++) {
    if (bare.every((id, i) => full[lead + i] === id)) return { lead, trail: full.length - lead - bare.length };
  }
  return { lead: 0, trail: 0 };
}

export function tokenizeCorpus(tokenizer: PreTrainedTokenizer, sentences: string[], maxTokens: number): TokenizedCorpus {
  const vocab = vocabularyOf(tokenizer);
  const { lead, trail } = specialFrame(tokenizer);
  const out: TokenizedCorpus = { sentences: [], tokenCount: 0, notices: [] };
  const push = (text: string, ids: number[], part?: TokenizedSentence['part']) => {
    out.sentences.push({ text, ids, tokens: ids.map((id) => vocab[id] ?? `[${id}]`), start: out.tokenCount, part });
    out.tokenCount += ids.length;
  };
  sentences.forEach((text, s) => {
    const ids = tokenizer.encode(text);
    if (ids.length <= maxTokens) {
      push(text, ids);
      return;
    }
    // Keep the leading and trailing special tokens on every part ([CLS] … [SEP], <s> …).
    const [first, last] = [ids.slice(0, lead), ids.slice(ids.length - trail)];
    const content = ids.slice(lead, ids.length - trail);
    const room = maxTokens - lead - trail;
    const parts = Math.ceil(content.length / room);
    for (let p = 0; p < parts; p++) {
      const chunk = content.slice(p * room, (p + 1) * room);
      push(tokenizer.decode(chunk), [...first, ...chunk, ...last], { index: p, of: parts, source: s });
    }
    out.notices.push(
      `Sentence ${s + 1} has ${ids.length} tokens, more than the model's ${maxTokens}; it was split into ${parts} parts of at most ${maxTokens} tokens, each read on its own.`,
    );
  });
  return out;
}
