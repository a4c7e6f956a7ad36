// Loads a model's tokenizer with @huggingface/transformers from the converted model
// folder (local files only) or, for models not converted here, from the Hugging Face hub.
import type { PreTrainedTokenizer } from '@huggingface/transformers';

export type TokenizerSource =
  /** A folder laid out by the setup step: a URL path in a browser, a file path in Node. */
  | { kind: 'local'; modelsPath: string; name: string }
  /** A Hugging Face hub repository id such as "bert-base-uncased". */
  | { kind: 'hub'; repo: string };

export async function loadTokenizer(source: TokenizerSource): Promise<PreTrainedTokenizer> {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
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
