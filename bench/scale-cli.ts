// One measurement of bench:scale in a process of its own (so its peak memory is its own),
// printing one JSON line:
//   convert MODEL FORMAT        conversion time and peak RSS, the graph's size
//   qk MODEL FORMAT…            Q/K of each precision against float32 on a sample (‖Δ‖/‖float32‖)
//   run MODEL FORMAT TOKENS     the pipeline (extract into a run store on disk, normalize, first
//                               PCA views of every head): tokens/s, time to the full PCA matrix, peak RSS
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { tokenizeCorpus } from '../lib/corpus/tokenize';
import { extractQueryKeys } from '../lib/engine/extract';
import { convertToFolder, diskFile, isConvertedFolder } from '../lib/node/convert';
import { FileStore } from '../lib/node/fileStore';
import { openNodeModel } from '../lib/node/model';
import type { WeightFormat } from '../lib/model/weights';
import { runIntoStore } from '../lib/run/pipeline';
import { scaleCorpus } from './corpora';
import { CONVERTED, SCALE_MODELS } from './scaleModels';

const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** The converted folder of a scale model in a precision, converting it first when absent (returns the conversion's figures then). */
async function converted(model: string, format: WeightFormat): Promise<{ dir: string; seconds?: number; bytes?: number }> {
  const dir = join(CONVERTED, `${model}-${format}`);
  if (isConvertedFolder(dir)) return { dir };
  const src = join(SCALE_MODELS, model);
  const read = (f: string) => (existsSync(join(src, f)) ? readFileSync(join(src, f), 'utf8') : undefined);
  const r = await convertToFolder(
    dir,
    {
      name: model,
      source: { kind: 'dir', path: src },
      sourceName: `${model} (random weights, a benchmark fixture)`,
      files: { config: read('config.json')!, tokenizer: read('tokenizer.json')!, tokenizerConfig: read('tokenizer_config.json') },
      weights: [diskFile(join(src, 'model.safetensors'))],
    },
    format,
  );
  return { dir, seconds: r.seconds, bytes: r.bytes };
}

function sample(tokenizer: PreTrainedTokenizer, tokens: number, maxTokens: number) {
  return tokenizeCorpus(tokenizer, scaleCorpus(tokenizer, tokens), maxTokens);
}

async function main(): Promise<void> {
  const [command, model, ...rest] = process.argv.slice(2);
  if (command === 'convert') {
    rmSync(join(CONVERTED, `${model}-${rest[0]}`), { recursive: true, force: true });
    const r = await converted(model, rest[0] as WeightFormat);
    console.log(JSON.stringify({ seconds: r.seconds, bytes: r.bytes, peakMb: peakMb() }));
    return;
  }
  if (command === 'qk') {
    const formats = rest as WeightFormat[];
    const outputs = new Map<WeightFormat, { q: Float32Array; k: Float32Array }>();
    for (const format of ['float32', ...formats] as WeightFormat[]) {
      const m = await openNodeModel((await converted(model, format)).dir);
      const corpus = sample(m.tokenizer, 256, m.manifest.maxTokens);
      const data = await extractQueryKeys(m.runner, model, m.manifest, corpus);
      outputs.set(format, { q: data.queries, k: data.keys });
      await m.runner.release();
    }
    const exact = outputs.get('float32')!;
    const errors: Record<string, number> = {};
    for (const format of formats) {
      const got = outputs.get(format)!;
      let diff = 0;
      let norm = 0;
      for (const key of ['q', 'k'] as const) {
        for (let i = 0; i < exact[key].length; i++) {
          diff += (got[key][i] - exact[key][i]) ** 2;
          norm += exact[key][i] ** 2;
        }
      }
      errors[format] = Math.sqrt(diff / norm);
    }
    console.log(JSON.stringify({ errors }));
    return;
  }
  if (command === 'run') {
    const [format, tokens] = [rest[0] as WeightFormat, Number(rest[1])];
    const { dir } = await converted(model, format);
    const started = performance.now();
    const m = await openNodeModel(dir);
    const opened = performance.now();
    const corpus = sample(m.tokenizer, tokens, m.manifest.maxTokens);
    const store = mkdtempSync(join(tmpdir(), 'qkviz-scale-'));
    try {
      const root = new FileStore(store);
      const t0 = performance.now();
      const draft = await runIntoStore(m.runner, m.manifest, corpus, {
        root,
        id: 'bench',
        dtype: 'float16',
        pca: [{ mode: 'optimized', dims: 3 }],
      });
      const matrixMs = performance.now() - t0;
      await draft.writer.abort(root);
      console.log(
        JSON.stringify({
          tokens: corpus.tokenCount,
          openSeconds: (opened - started) / 1000,
          tokensPerSecond: corpus.tokenCount / (draft.extractMs / 1000),
          extractSeconds: draft.extractMs / 1000,
          matrixSeconds: matrixMs / 1000,
          peakMb: peakMb(),
        }),
      );
    } finally {
      await m.runner.release();
      rmSync(store, { recursive: true, force: true });
    }
    return;
  }
  throw new Error(`unknown command ${command}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
