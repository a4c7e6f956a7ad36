// The model facts QKViz needs from a Hugging Face config.json, checked once so the
// converter, the engine and the UI agree on layers, heads and sizes.

export interface BertConfig {
  modelType: string;
  layers: number;
  heads: number;
  hidden: number;
  headDim: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: string;
  /** Index of the first real position embedding (0 for BERT, pad_token_id + 1 for RoBERTa). */
  positionOffset: number;
  /** Longest sequence, special tokens included, the position table allows. */
  maxTokens: number;
}

/** BERT-family model types whose checkpoints share BERT's tensor layout. */
export const BERT_FAMILY = new Set(['bert', 'roberta', 'xlm-roberta', 'camembert', 'distilbert']);

/** RoBERTa-style models number positions from padding_idx + 1, not from 0. */
const OFFSET_POSITIONS = new Set(['roberta', 'xlm-roberta', 'camembert']);

export class ModelConfigError extends Error {}

/** Reads numbers from a config.json: `fallback` where the key is absent, else an error naming it. */
export function configNumbers(
  json: Record<string, unknown>,
  error: new (message: string) => Error = ModelConfigError,
): (key: string, fallback?: number) => number {
  return (key, fallback) => {
    const v = json[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (fallback !== undefined) return fallback;
    throw new error(`config.json has no numeric "${key}"`);
  };
}

/** DistilBERT's config.json names for BERT's keys (it has no token types). */
const DISTILBERT_KEYS: Record<string, string> = {
  hidden_size: 'dim',
  num_attention_heads: 'n_heads',
  num_hidden_layers: 'n_layers',
  intermediate_size: 'hidden_dim',
  hidden_act: 'activation',
};

export function parseBertConfig(source: Record<string, unknown>): BertConfig {
  const json =
    source.model_type === 'distilbert'
      ? {
          ...source,
          ...Object.fromEntries(Object.entries(DISTILBERT_KEYS).map(([bert, distil]) => [bert, source[distil]])),
          type_vocab_size: 1,
          layer_norm_eps: 1e-12,
        }
      : source;
  const num = configNumbers(json);
  const modelType = String(json.model_type ?? 'bert');
  if (!BERT_FAMILY.has(modelType)) {
    throw new ModelConfigError(`model_type "${modelType}" is not a BERT-family encoder (supported: ${[...BERT_FAMILY].join(', ')})`);
  }
  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  if (hidden % heads !== 0) throw new ModelConfigError(`hidden_size ${hidden} is not divisible by ${heads} heads`);
  const hiddenAct = String(json.hidden_act ?? 'gelu');
  if (!['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'].includes(hiddenAct)) {
    throw new ModelConfigError(`hidden_act "${hiddenAct}" is not supported`);
  }
  const positionType = json.position_embedding_type ?? 'absolute';
  if (positionType !== 'absolute') {
    throw new ModelConfigError(`position_embedding_type "${String(positionType)}" is not supported (absolute only)`);
  }
  const maxPositions = num('max_position_embeddings');
  const positionOffset = OFFSET_POSITIONS.has(modelType) ? num('pad_token_id', 1) + 1 : 0;
  return {
    modelType,
    layers: num('num_hidden_layers'),
    heads,
    hidden,
    headDim: hidden / heads,
    intermediate: num('intermediate_size'),
    vocabSize: num('vocab_size'),
    maxPositions,
    typeVocabSize: num('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
    hiddenAct,
    positionOffset,
    maxTokens: maxPositions - positionOffset,
  };
}
