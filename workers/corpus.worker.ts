// Corpus worker: counts a corpus's tokens with the model's tokenizer, off the main thread.
import * as ort from 'onnxruntime-web/webgpu';
import { countTokens } from '../lib/corpus/count';
import { loadTokenizer, tokenizerOfFiles } from '../lib/model/tokenizer';
import { storedKeyOf } from '../lib/model/store';
import { browserModelStore } from '../lib/browser/modelStore';
import type { CorpusApi } from '../lib/protocol/corpus';
import { configureOrtWeb } from '../lib/runtime/ort';
import { type ScopeLike, serve } from '../lib/worker/rpc';

const configured = configureOrtWeb(ort);
const tokenizers = new Map<string, ReturnType<typeof loadTokenizer>>();

serve<CorpusApi>(self as unknown as ScopeLike, {
  count: async ({ modelsUrl, model, sentences }, context) => {
    await configured;
    const key = `${modelsUrl}|${model}`;
    if (!tokenizers.has(key)) {
      const stored = storedKeyOf(model);
      const loading = stored ? browserModelStore.files(stored).then(tokenizerOfFiles) : loadTokenizer({ kind: 'local', modelsPath: modelsUrl, name: model });
      // A failed load is not kept: the next count tries again.
      loading.catch(() => tokenizers.delete(key));
      tokenizers.set(key, loading);
    }
    const lengths = await countTokens(await tokenizers.get(key)!, sentences, {
      signal: context.signal,
      onProgress: (done, total) => context.progress({ done, total }),
    });
    context.transfer(lengths.buffer as ArrayBuffer);
    return { lengths };
  },
});
