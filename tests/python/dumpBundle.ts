// What the page reads from a bundle, dumped for the Python tests to compare bit for bit:
//   tsx tests/python/dumpBundle.ts run FILE OUT        the page's run reader (openRunBundle): every
//                                                     head's queries and keys as it reads them (float32),
//                                                     each layout, similarity and the run's JSON
//   tsx tests/python/dumpBundle.ts container FILE OUT  the container reader (readBundle): every array's bytes and the meta
// A bundle the reader refuses exits 1 with its message.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBundle } from '../../lib/io/bundle';
import { jsonReplacer } from '../../lib/io/json';
import { readRunBundle } from '../../lib/run/bundleRun';

const [kind, file, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const bytes = new Uint8Array(readFileSync(file));
const raw = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

try {
  if (kind === 'container') {
    const { version, meta, arrays } = readBundle<unknown>(bytes);
    for (const [name, a] of arrays) writeFileSync(join(out, `${name}.bin`), raw(a.data));
    writeFileSync(join(out, 'meta.json'), JSON.stringify({ version, meta }, jsonReplacer));
  } else {
    const run = await readRunBundle(bytes);
    const { data, analysis } = run.result;
    if (run.vectors) {
      for (let c = 0; c < data.layers * data.heads; c++) {
        const { q, k } = await run.vectors.head(c);
        writeFileSync(join(out, `q${c}.bin`), raw(q));
        writeFileSync(join(out, `k${c}.bin`), raw(k));
      }
    }
    run.layouts.forEach((l, i) => writeFileSync(join(out, `layout${i}.bin`), Buffer.concat(l.heads.map(raw))));
    for (const s of run.similarities) writeFileSync(join(out, `similarity-${s.kind}.bin`), raw(s.values));
    writeFileSync(
      join(out, 'run.json'),
      JSON.stringify(
        {
          tokens: data.sentences.map((s) => s.tokens),
          sentences: run.sentences,
          layouts: run.layouts.map(({ mode, method, dims }) => ({ mode, method, dims })),
          heads: analysis.heads,
          viewsOnly: run.viewsOnly,
        },
        jsonReplacer,
      ),
    );
  }
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
