// Turns an uploaded or fetched corpus into a list of sentences: one per line for .txt,
// a "text" field per line for .jsonl. Blank lines are dropped but counted, so the UI can
// say what it skipped instead of silently changing the input.

export interface ParsedCorpus {
  sentences: string[];
  blankLines: number;
  /** 1-based line numbers of .jsonl lines that were not usable, with the reason. */
  rejected: { line: number; reason: string }[];
}

export class CorpusError extends Error {}

export type CorpusFormat = 'txt' | 'jsonl';

export function corpusFormatOf(fileName: string): CorpusFormat {
  return /\.jsonl$/i.test(fileName) ? 'jsonl' : 'txt';
}

export function parseCorpus(text: string, format: CorpusFormat = 'txt'): ParsedCorpus {
  if (text.includes('\u0000')) throw new CorpusError('this file is not text (it contains NUL bytes)');
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  // A trailing newline is not a blank sentence.
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const out: ParsedCorpus = { sentences: [], blankLines: 0, rejected: [] };
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) {
      out.blankLines++;
      return;
    }
    if (format === 'txt') {
      out.sentences.push(line);
      return;
    }
    try {
      const record = JSON.parse(line) as unknown;
      const value = (record as { text?: unknown } | null)?.text;
      // A .jsonl text is taken as written: its newlines and edge spaces are the author's (a
      // byte-level tokenizer reads " word" and "word" differently).
      if (typeof value === 'string' && value.trim()) out.sentences.push(value);
      else out.rejected.push({ line: i + 1, reason: 'no non-empty "text" field' });
    } catch {
      out.rejected.push({ line: i + 1, reason: 'not valid JSON' });
    }
  });
  if (out.sentences.length === 0) {
    throw new CorpusError(
      out.rejected.length
        ? `no usable sentences: ${out.rejected.length} line(s) rejected, e.g. line ${out.rejected[0].line}: ${out.rejected[0].reason}`
        : 'the corpus is empty: give at least one sentence (one per line)',
    );
  }
  return out;
}
