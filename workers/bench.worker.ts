// Benchmark worker: runs lib's extraction benchmark on onnxruntime-web (WASM) in the
// browser, for bench/extract-browser.ts. Thin adapter, like the model worker.
import * as ort from 'onnxruntime-web/webgpu';
import { benchmarkExtraction } from '../lib/bench/extraction';
import { parseCorpus } from '../lib/corpus/parse';
import { type OrtModule, openModel } from '../lib/engine/runtime';
import { tokenizeCorpus } from '../lib/corpus/tokenize';
import { fetchManifest, modelBaseUrl } from '../lib/model/catalog';
import { fetchModelBytes } from '../lib/model/download';
import { LAST_HIDDEN_STATE } from '../lib/model/outputs';
import { loadTokenizer } from '../lib/model/tokenizer';
import { keepOnlyOutputs } from '../lib/onnx/prune';
import type { BenchApi } from '../lib/protocol/bench';
import { configureOrtWeb } from '../lib/runtime/ort';
import { type ScopeLike, serve } from '../lib/worker/rpc';

const configured = configureOrtWeb(ort);

serve<BenchApi>(self as unknown as ScopeLike, {
  extraction: async ({ modelsUrl, model, corpusUrl, rounds }, context) => {
    await configured;
    const manifest = await fetchManifest(modelsUrl, model);
    const bytes = await fetchModelBytes(`${modelBaseUrl(modelsUrl, model)}${manifest.onnx.file}`, manifest, () => {}, context.signal);
    const tokenizer = await loadTokenizer({ kind: 'local', modelsPath: modelsUrl, name: model });
    const corpus = tokenizeCorpus(tokenizer, parseCorpus(await (await fetch(corpusUrl)).text()).sentences, manifest.maxTokens);
    const runtime = ort as unknown as OrtModule;
    const plain = await openModel(runtime, keepOnlyOutputs(bytes, [LAST_HIDDEN_STATE]), ['wasm']);
    const full = await openModel(runtime, bytes, ['wasm']);
    const result = await benchmarkExtraction(plain, full, manifest, corpus, rounds);
    return { result, threads: full.report.threads ?? 1 };
  },
});
