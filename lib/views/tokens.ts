// What the views need to know about each token, computed once per run: its display text,
// sentence, position, and the per-token figures points can be coloured by. A head's points
// are its N queries (point i = token row i) then its N keys (point N + i).
import type { QueryKeyData } from '../data/layout';

export interface TokenTable {
  count: number;
  /** Token strings as the tokenizer wrote them (WordPiece continuations keep their "##"). */
  text: string[];
  sentence: Int32Array;
  /** Position within its sentence (0-based) and that sentence's length. */
  position: Int32Array;
  sentenceLength: Int32Array;
  punctuation: Uint8Array;
  /** Characters, without a WordPiece "##". */
  length: Int32Array;
  /** How often the same token string occurs in the corpus. */
  frequency: Int32Array;
  special: Uint8Array;
}

const PUNCTUATION = /^[\p{P}\p{S}]+$/u;
const SPECIAL = /^\[(CLS|SEP|PAD|MASK|UNK|DIST|REG)\]$|^<\/?s>$|^<(pad|unk|mask|bos|eos)>$|^<\|[\w-]+\|>$/;

/**
 * A token as a reader writes it: without a WordPiece "##", a byte-level BPE space marker
 * ("Ġ", GPT-2 and Qwen) or a SentencePiece one ("▁", Llama); "Ċ" (a newline byte) as ⏎.
 */
export const displayText = (token: string) => {
  if (token.startsWith('##') && token.length > 2) return token.slice(2);
  if ((token.startsWith('Ġ') || token.startsWith('▁')) && token.length > 1) return token.slice(1);
  return token.replace(/Ċ/g, '⏎');
};

export function tokenTable(data: Pick<QueryKeyData, 'sentences' | 'tokenCount'>): TokenTable {
  const n = data.tokenCount;
  const t: TokenTable = {
    count: n,
    text: new Array<string>(n),
    sentence: new Int32Array(n),
    position: new Int32Array(n),
    sentenceLength: new Int32Array(n),
    punctuation: new Uint8Array(n),
    length: new Int32Array(n),
    frequency: new Int32Array(n),
    special: new Uint8Array(n),
  };
  const counts = new Map<string, number>();
  data.sentences.forEach((s, si) => {
    s.tokens.forEach((token, p) => {
      const row = s.start + p;
      t.text[row] = token;
      t.sentence[row] = si;
      t.position[row] = p;
      t.sentenceLength[row] = s.tokens.length;
      t.special[row] = SPECIAL.test(token) ? 1 : 0;
      t.punctuation[row] = !t.special[row] && PUNCTUATION.test(token) ? 1 : 0;
      t.length[row] = [...displayText(token)].length;
      counts.set(token, (counts.get(token) ?? 0) + 1);
    });
  });
  for (let i = 0; i < n; i++) t.frequency[i] = counts.get(t.text[i]) ?? 0;
  return t;
}

export type PointKind = 'query' | 'key';

/** Point index within a head → its token row and kind. */
export function pointToken(point: number, tokenCount: number): { row: number; kind: PointKind } {
  return point < tokenCount ? { row: point, kind: 'query' } : { row: point - tokenCount, kind: 'key' };
}

/** An image run's search: every token of the images whose name contains the text (case-insensitive). */
export function searchImages(table: TokenTable, names: readonly string[], query: string): Int32Array {
  const q = query.trim().toLowerCase();
  if (!q) return new Int32Array(0);
  const hit = names.map((n) => n.toLowerCase().includes(q));
  const rows: number[] = [];
  for (let i = 0; i < table.count; i++) if (hit[table.sentence[i]]) rows.push(i);
  return Int32Array.from(rows);
}

/** Token rows whose text matches a search, case-insensitively, ignoring a WordPiece "##". */
export function searchTokens(table: TokenTable, query: string): Int32Array {
  const q = query.trim().toLowerCase();
  if (!q) return new Int32Array(0);
  const rows: number[] = [];
  for (let i = 0; i < table.count; i++) if (displayText(table.text[i]).toLowerCase() === q) rows.push(i);
  return Int32Array.from(rows);
}
