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
