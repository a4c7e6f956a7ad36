// Node benchmark: extraction vs plain forward pass on onnxruntime-node (CPU), default corpus.
//   npm run bench:extract
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { benchmarkExtraction, formatExtractionBenchmark } from '../lib/bench/extraction';
import { parseCorpus } from '../lib/corpus/parse';
import { type OrtModule, openModel } from '../lib/engine/runtime';
import { tokenizeCorpus } from '../lib/engine/tokens';
import { openNodeModel } from '../lib/node/model';
import { LAST_HIDDEN_STATE } from '../lib/model/outputs';
import { keepOnlyOutputs } from '../lib/onnx/prune';

const ROOT = resolve(import.meta.dirname, '..');
const model = await openNodeModel(join(ROOT, 'public', 'models', 'all-MiniLM-L6-v2'));
const plain = await openModel(ort as unknown as OrtModule, keepOnlyOutputs(model.onnx, [LAST_HIDDEN_STATE]), ['cpu']);
const sentences = parseCorpus(readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8')).sentences;
const corpus = tokenizeCorpus(model.tokenizer, sentences, model.manifest.maxTokens);
const result = await benchmarkExtraction(plain, model.runner, model.manifest, corpus, Number(process.env.ROUNDS ?? 3));
console.log(formatExtractionBenchmark('Node, onnxruntime-node CPU', result));
