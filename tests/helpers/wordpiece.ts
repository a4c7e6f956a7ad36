// A plain reference of BERT's uncased tokenizer (basic tokenisation + greedy WordPiece),
// written from the algorithm's description, to check the tokenizer files load and behave.

const isPunctuation = (ch: string): boolean => {
  const c = ch.codePointAt(0)!;
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return /\p{P}/u.test(ch);
};

export function referenceWordPiece(text: string, vocab: Map<string, number>): string[] {
  const cleaned = Array.from(text)
    .filter((ch) => (ch !== '\u0000' && ch !== '\ufffd' && !/\p{Cc}/u.test(ch)) || /\s/.test(ch))
    .join('');
  const lowered = cleaned
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '');
  const words: string[] = [];
  for (const chunk of lowered.split(/\s+/).filter(Boolean)) {
    let current = '';
    for (const ch of chunk) {
      if (isPunctuation(ch)) {
        if (current) words.push(current);
        words.push(ch);
        current = '';
      } else current += ch;
    }
    if (current) words.push(current);
  }
  const out: string[] = [];
  for (const word of words) {
    const pieces: string[] = [];
    let start = 0;
    let bad = false;
    while (start < word.length) {
      let end = word.length;
      let found: string | null = null;
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + word.slice(start, end);
        if (vocab.has(piece)) {
          found = piece;
          break;
        }
        end--;
      }
      if (!found) {
        bad = true;
        break;
      }
      pieces.push(found);
      start = end;
    }
    out.push(...(bad ? ['[UNK]'] : pieces));
  }
  return out;
}
