// Node benchmark: extraction vs a plain forward pass on onnxruntime-node (CPU), in one run:
//   - the ratio on the default corpus and on ~23k tokens of long sentences (five licences);
//   - where the extra time goes: the same session asked for every Q/K/attention output but
//     nothing copied out (ORT computing and handing over the outputs) vs the full extraction
//     (plus QKViz's copy into the corpus-wide arrays);
//   - the ratio under onnxruntime session options other than QKViz's own.
//   npm run bench:extract      (env: ROUNDS=3, VARIANTS=0 to skip the session options)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import * as ort from 'onnxruntime-node';
import { benchmarkExtraction, formatExtractionBenchmark, forwardPass } from '../lib/bench/extraction';
import { parseCorpus } from '../lib/corpus/parse';
import { type ModelRunner, type OrtModule, openModel } from '../lib/engine/runtime';
import { type TokenizedCorpus, tokenizeCorpus } from '../lib/corpus/tokenize';
import { openNodeModel } from '../lib/node/model';
import { LAST_HIDDEN_STATE, attentionOutput, keyOutput, queryOutput } from '../lib/model/outputs';
import { keepOnlyOutputs } from '../lib/onnx/prune';
import { licenceCorpus } from './corpora';

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const model = await openNodeModel(join(ROOT, 'public', 'models', 'all-MiniLM-L6-v2'));
const plainGraph = keepOnlyOutputs(model.graph.bytes, [LAST_HIDDEN_STATE]);
const open = (graph: Uint8Array, sessionOptions?: InferenceSession.SessionOptions) =>
  openModel(ort as unknown as OrtModule, graph, ['cpu'], { sessionOptions });
const corpusOf = (text: string) => tokenizeCorpus(model.tokenizer, parseCorpus(text).sentences, model.manifest.maxTokens);
const defaultCorpus = corpusOf(readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const plain = await open(plainGraph);
const result = await benchmarkExtraction(plain, model.runner, model.manifest, defaultCorpus, ROUNDS);
console.log(formatExtractionBenchmark('Node, onnxruntime-node CPU, default corpus', result));

// Where the time goes: every output requested, none copied out.
const outputs = Array.from({ length: model.manifest.layers }, (_, l) => [queryOutput(l), keyOutput(l), attentionOutput(l)]).flat();
async function outputsOnly(runner: ModelRunner, corpus: TokenizedCorpus): Promise<number> {
  const t = performance.now();
  await forwardPass(runner, corpus, outputs);
  return performance.now() - t;
}
await outputsOnly(model.runner, defaultCorpus);
const only: number[] = [];
for (let r = 0; r < ROUNDS; r++) only.push(await outputsOnly(model.runner, defaultCorpus));
const plainMs = median(result.plainMs);
const extractMs = median(result.extractMs);
console.log(
  `  breakdown: plain ${(plainMs / 1000).toFixed(2)} s; + every Q/K/attention output handed over by ORT ${(median(only) / 1000).toFixed(2)} s (${(median(only) / plainMs).toFixed(3)}×); ` +
    `+ QKViz's copy into the corpus arrays ${(extractMs / 1000).toFixed(2)} s (${(extractMs / plainMs).toFixed(3)}×)`,
);

// The same at ~23k tokens of long sentences.
const licences = corpusOf(licenceCorpus());
const large = await benchmarkExtraction(plain, model.runner, model.manifest, licences, Math.min(ROUNDS, 2));
console.log(formatExtractionBenchmark('Node, onnxruntime-node CPU, five licences', large));
await plain.release();

// onnxruntime session options other than QKViz's (graph optimization 'all', intra-op
// threads not spinning), each on a fresh pair of sessions.
const VARIANTS: [string, InferenceSession.SessionOptions][] = [
  ['threads spin between runs (ORT default)', { extra: { session: { intra_op: { allow_spinning: '1' } } } }],
  ['graph optimization "extended"', { graphOptimizationLevel: 'extended' }],
  ['no memory pattern', { enableMemPattern: false }],
  ['no CPU memory arena', { enableCpuMemArena: false }],
  ['parallel execution, 2 inter-op threads', { executionMode: 'parallel', interOpNumThreads: 2 }],
  ['one intra-op thread', { intraOpNumThreads: 1 }],
];
if (process.env.VARIANTS !== '0') {
  console.log('Session options (default corpus, median of 2 rounds; ratio = extraction ÷ plain, both sessions with the option):');
  for (const [label, options] of VARIANTS) {
    const p = await open(plainGraph, options);
    const f = await open(model.graph.bytes, options);
    const b = await benchmarkExtraction(p, f, model.manifest, defaultCorpus, 2);
    console.log(
      `  ${label}: plain ${Math.round(b.plainTokensPerSecond)} tokens/s, extraction ${Math.round(b.extractTokensPerSecond)} tokens/s, ratio ${b.ratio.toFixed(3)}×`,
    );
    await p.release();
    await f.release();
  }
}
await model.runner.release();
