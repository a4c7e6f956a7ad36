// The qkviz command line: the same lib/ engine as the browser, on onnxruntime-node.
//   qkviz extract --input corpus.txt --out DIR [--model DIR]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkAttention } from '../lib/engine/attentionCheck';
import { extractionFiles } from '../lib/engine/exportFiles';
import { extractQueryKeys } from '../lib/engine/extract';
import { assertFitsMemory } from '../lib/engine/memory';
import { tokenizeCorpus } from '../lib/engine/tokens';
import { corpusFormatOf, parseCorpus } from '../lib/corpus/parse';
import { openNodeModel } from '../lib/node/model';

const ROOT = resolve(import.meta.dirname, '..');
const DEFAULT_MODEL_DIR = join(ROOT, 'public', 'models', 'all-MiniLM-L6-v2');

const USAGE = `usage:
  qkviz extract --input corpus.txt|corpus.jsonl --out DIR [--model DIR] [--quiet]
      Writes tokens.json, queries.npy, keys.npy, attention.npy to DIR (see README).`;

async function extract(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { input: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' }, quiet: { type: 'boolean', default: false } },
  });
  if (!values.input || !values.out) throw new Error(`extract needs --input and --out\n${USAGE}`);
  const log = (m: string) => !values.quiet && console.error(`[qkviz] ${m}`);
  const parsed = parseCorpus(readFileSync(values.input, 'utf8'), corpusFormatOf(values.input));
  if (parsed.blankLines) log(`skipped ${parsed.blankLines} blank line(s)`);
  for (const r of parsed.rejected) log(`line ${r.line} skipped: ${r.reason}`);
  const model = await openNodeModel(values.model ?? DEFAULT_MODEL_DIR);
  const { manifest } = model;
  const corpus = tokenizeCorpus(model.tokenizer, parsed.sentences, manifest.maxTokens);
  corpus.notices.forEach(log);
  assertFitsMemory(manifest, corpus.sentences.map((s) => s.ids.length), Number.POSITIVE_INFINITY);
  log(`${manifest.name}: ${corpus.sentences.length} sentences, ${corpus.tokenCount} tokens on ${model.runner.report.device}`);
  const started = performance.now();
  const data = await extractQueryKeys(model.runner, manifest.name, manifest, corpus);
  const seconds = (performance.now() - started) / 1000;
  const check = checkAttention(data);
  log(`extracted in ${seconds.toFixed(2)} s (${Math.round(corpus.tokenCount / seconds)} tokens/s); max |attention from Q/K − model attention| = ${check.maxAbsError.toExponential(2)}`);
  mkdirSync(values.out, { recursive: true });
  for (const [name, bytes] of Object.entries(extractionFiles(data))) writeFileSync(join(values.out, name), bytes);
  log(`wrote tokens.json, queries.npy, keys.npy, attention.npy to ${resolve(values.out)}`);
  await model.runner.release();
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'extract') return extract(rest);
  console.log(USAGE);
  if (command && command !== '--help' && command !== 'help') process.exitCode = 2;
}

main().catch((e: Error) => {
  console.error(`qkviz: ${e.message}`);
  process.exit(1);
});
