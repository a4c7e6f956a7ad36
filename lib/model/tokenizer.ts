// Loads a model's tokenizer with @huggingface/transformers: from the converted model folder
// (local files only), from the Hugging Face hub, or from tokenizer files already fetched (the
// page's hub and local-folder models), choosing the class as AutoTokenizer does.
import type { PreTrainedTokenizer } from '@huggingface/transformers';

export type TokenizerSource =
  /** A folder laid out by the setup step: a URL path in a browser, a file path in Node. */
  | { kind: 'local'; modelsPath: string; name: string }
  /** A Hugging Face hub repository id such as "bert-base-uncased". */
  | { kind: 'hub'; repo: string }
  /** tokenizer.json and tokenizer_config.json, parsed. */
  | { kind: 'files'; tokenizer: object; config: Record<string, unknown> };

export async function loadTokenizer(source: TokenizerSource): Promise<PreTrainedTokenizer> {
  const transformers = await import('@huggingface/transformers');
  const { AutoTokenizer, env } = transformers;
  if (source.kind === 'files') {
    // AutoTokenizer.from_pretrained's choice: tokenizer_class without "Fast", else the base class.
    const name = String(source.config.tokenizer_class ?? '').replace(/Fast$/, '');
    const named = (transformers as unknown as Record<string, unknown>)[name];
    const isTokenizer =
      typeof named === 'function' && (named === transformers.PreTrainedTokenizer || named.prototype instanceof transformers.PreTrainedTokenizer);
    const Class = (isTokenizer ? named : transformers.PreTrainedTokenizer) as new (json: object, config: object) => PreTrainedTokenizer;
    return new Class(source.tokenizer, source.config);
  }
  if (source.kind === 'local') {
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = source.modelsPath.endsWith('/') ? source.modelsPath : `${source.modelsPath}/`;
    return AutoTokenizer.from_pretrained(source.name);
  }
  env.allowRemoteModels = true;
  env.allowLocalModels = false;
  return AutoTokenizer.from_pretrained(source.repo);
}

/** A tokenizer from its files' text, as stored with a hub or folder model (tokenizer_config.json optional). */
export function tokenizerOfFiles(files: { tokenizer?: string; tokenizerConfig?: string }): Promise<PreTrainedTokenizer> {
  if (!files.tokenizer) return Promise.reject(new Error('this model reads images: it has no tokenizer'));
  return loadTokenizer({ kind: 'files', tokenizer: JSON.parse(files.tokenizer), config: files.tokenizerConfig ? JSON.parse(files.tokenizerConfig) : {} });
}
