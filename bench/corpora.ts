// Corpora for the benchmarks beyond the default one.
import { readFileSync } from 'node:fs';

/** Licence texts every Debian machine has (base-files). */
const LICENCES = ['GPL-3', 'Apache-2.0', 'MPL-2.0', 'GFDL-1.3', 'LGPL-2.1'];

/** ~23k tokens of long sentences: five licence texts, one paragraph a line (lines joined). */
export function licenceCorpus(): string {
  const paragraphs = LICENCES.flatMap((name) =>
    readFileSync(`/usr/share/common-licenses/${name}`, 'utf8')
      .split(/\n\s*\n/)
      .map((p) => p.split(/\s+/).filter(Boolean).join(' '))
      .filter(Boolean),
  );
  return `${paragraphs.join('\n')}\n`;
}

/** Sentences of the licence corpus (one a line, long paragraphs split at full stops) up to about `tokens` tokens of this tokenizer. */
export function scaleCorpus(tokenizer: (text: string) => { input_ids: { size: number } }, tokens: number): string[] {
  const sentences = licenceCorpus()
    .split('\n')
    .flatMap((p) => p.split(/(?<=\.)\s+/))
    .filter(Boolean);
  const out: string[] = [];
  let count = 0;
  for (let i = 0; count < tokens; i++) {
    const s = sentences[i % sentences.length];
    count += tokenizer(s).input_ids.size;
    out.push(s);
  }
  return out;
}
