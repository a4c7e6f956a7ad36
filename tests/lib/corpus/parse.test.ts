import { describe, expect, it } from 'vitest';
import { CorpusError, corpusFormatOf, parseCorpus } from '../../../lib/corpus/parse';

describe('parseCorpus', () => {
  it('splits lines (any newline style), trims, and counts the blank lines it drops', () => {
    const c = parseCorpus('\uFEFFOne.\r\n\r\n  Two.  \rThree.\n\n');
    expect(c.sentences).toEqual(['One.', 'Two.', 'Three.']);
    expect(c.blankLines).toBe(2);
  });

  it('reads the "text" field of .jsonl lines and reports the lines it could not use', () => {
    const c = parseCorpus('{"text": "Hello there."}\nnot json\n{"id": 3}\n{"text": "Bye."}', corpusFormatOf('x.JSONL'));
    expect(c.sentences).toEqual(['Hello there.', 'Bye.']);
    // A .jsonl text is kept as written: a newline inside it and spaces at its edges are content.
    expect(parseCorpus('{"text": "  two\\nlines "}', 'jsonl').sentences).toEqual(['  two\nlines ']);
    expect(c.rejected).toEqual([
      { line: 2, reason: 'not valid JSON' },
      { line: 3, reason: 'no non-empty "text" field' },
    ]);
  });

  it('refuses an empty corpus and binary data with a message a person understands', () => {
    expect(() => parseCorpus('')).toThrow(/empty/);
    expect(() => parseCorpus('\n  \n\t\n')).toThrow(CorpusError);
    expect(() => parseCorpus('abc\u0000def')).toThrow(/not text/);
    expect(() => parseCorpus('nope', 'jsonl')).toThrow(/line 1: not valid JSON/);
  });
});
