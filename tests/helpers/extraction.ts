// A real extraction of (part of) the default corpus in Node, shared by tests that need
// real query/key vectors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCorpus } from '../../lib/corpus/parse';
import { extractQueryKeys } from '../../lib/engine/extract';
import type { QueryKeyData } from '../../lib/data/layout';
import { tokenizeCorpus } from '../../lib/corpus/tokenize';
import { openNodeModel } from '../../lib/node/model';
import { DEFAULT_MODEL_DIR, ROOT } from './models';

export function defaultSentences(): string[] {
  return parseCorpus(readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8')).sentences;
}

export async function extractDefault(sentences = defaultSentences()): Promise<QueryKeyData> {
  const model = await openNodeModel(DEFAULT_MODEL_DIR);
  try {
    return await extractQueryKeys(model.runner, model.manifest.name, model.manifest, tokenizeCorpus(model.tokenizer, sentences, model.manifest.maxTokens));
  } finally {
    await model.runner.release();
  }
}
