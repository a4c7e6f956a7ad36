// Converts a BERT-family safetensors checkpoint into an ONNX encoder graph (opset 17)
// that, besides last_hidden_state, exposes every layer's query, key and value projections,
// each head's value norms through the output projection, and attention probabilities: what
// QKViz visualises. Sizes come from config.json.
import { DataType, GraphBuilder } from '../onnx/graph';
import type { BertConfig } from './config';
import type { Activation } from './decoders';
import { ConversionError } from './errors';
import { activation, attentionMask, layerNorm, valueNorms } from './layers';
import { ATTENTION_MASK, INPUT_IDS, LAST_HIDDEN_STATE, TOKEN_TYPE_IDS, attentionOutput, keyOutput, queryOutput, valueNormOutput, valueOutput } from './outputs';
import type { TensorSource } from './tensors';
import { type WeightFormat, Weights } from './weights';

/** Prefixes that wrap the encoder's tensors in task checkpoints (e.g. BertForMaskedLM). */
const WRAPPER_PREFIXES = ['', 'bert.', 'roberta.', 'distilbert.', 'model.'];

/** DistilBERT's tensor names for BERT's (layers under transformer.layer, no token types). */
const DISTILBERT_NAMES: [RegExp, string][] = [
  [/^encoder\.layer\.(\d+)\.attention\.self\.query\./, 'transformer.layer.$1.attention.q_lin.'],
  [/^encoder\.layer\.(\d+)\.attention\.self\.key\./, 'transformer.layer.$1.attention.k_lin.'],
  [/^encoder\.layer\.(\d+)\.attention\.self\.value\./, 'transformer.layer.$1.attention.v_lin.'],
  [/^encoder\.layer\.(\d+)\.attention\.output\.dense\./, 'transformer.layer.$1.attention.out_lin.'],
  [/^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\./, 'transformer.layer.$1.sa_layer_norm.'],
  [/^encoder\.layer\.(\d+)\.intermediate\.dense\./, 'transformer.layer.$1.ffn.lin1.'],
  [/^encoder\.layer\.(\d+)\.output\.dense\./, 'transformer.layer.$1.ffn.lin2.'],
  [/^encoder\.layer\.(\d+)\.output\.LayerNorm\./, 'transformer.layer.$1.output_layer_norm.'],
];

/** BERT's config names for its activations. */
const ACTIVATIONS: Record<string, Activation> = { gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', relu: 'relu' };

/** The checkpoint's name for a BERT tensor name, whatever wrapper prefix or LayerNorm naming it uses. */
function tensorNames(source: TensorSource): { name: (bertName: string) => string; distil: boolean } {
  const probe = 'embeddings.word_embeddings.weight';
  const prefix = WRAPPER_PREFIXES.find((p) => source.has(p + probe));
  if (prefix === undefined) throw new ConversionError(`no "${probe}" tensor: this does not look like a BERT-family checkpoint`);
  const distil = source.has(`${prefix}transformer.layer.0.attention.q_lin.weight`);
  return {
    distil,
    name: (bertName) => {
      const name = prefix + (distil ? DISTILBERT_NAMES.reduce((n, [from, to]) => n.replace(from, to), bertName) : bertName);
      // Old TF-converted checkpoints call LayerNorm's weight/bias gamma/beta.
      const legacy = name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
      return source.has(name) || !source.has(legacy) ? name : legacy;
    },
  };
}

/** The graph of `config`'s encoder, its weights read from `source` when the graph is written. */
export function buildBertGraph(config: BertConfig, source: TensorSource, format: WeightFormat): GraphBuilder {
  const { name, distil } = tensorNames(source);
  const g = new GraphBuilder('qkviz_bert_encoder');
  const w = new Weights(g, source, format);
  const { hidden: H, heads: NH, headDim: D, intermediate: I, layers: L } = config;

  const inputIds = g.input(INPUT_IDS, DataType.INT64, ['batch', 'sequence']);
  const mask = g.input(ATTENTION_MASK, DataType.INT64, ['batch', 'sequence']);
  const tokenTypes = g.input(TOKEN_TYPE_IDS, DataType.INT64, ['batch', 'sequence']);

  const linear = (x: string, layer: string, inDim: number, outDim: number, outputName?: string): string =>
    w.linear(x, { weight: name(`${layer}.weight`), inDim, outDim, bias: name(`${layer}.bias`) }, outputName);
  const norm = (x: string, layer: string): string => {
    // LayerNorm under the checkpoint's names (weight/bias or gamma/beta).
    const weight = name(`${layer}.weight`);
    return layerNorm(w, x, weight.slice(0, weight.lastIndexOf('.')), H, config.layerNormEps, undefined, { weight, bias: name(`${layer}.bias`) });
  };

  // Embeddings: word + position + token type, then LayerNorm.
  const seqLen = g.node('Gather', [g.node('Shape', [inputIds]), g.int64Tensor('const.one_index', [1], [])], { axis: 0 });
  const posStart = g.int64Tensor('const.position_offset', [config.positionOffset], []);
  const positions = g.node('Range', [posStart, g.node('Add', [seqLen, posStart]), g.int64Tensor('const.one', [1], [])]);
  let x = g.node('Add', [
    w.embedding(inputIds, name('embeddings.word_embeddings.weight'), config.vocabSize, H),
    g.node('Gather', [w.matrix(name('embeddings.position_embeddings.weight'), [config.maxPositions, H]), positions]),
  ]);
  // Token types: DistilBERT has none (the inputs are all 0, its row would be zeros).
  if (!distil) x = g.node('Add', [x, g.node('Gather', [w.matrix(name('embeddings.token_type_embeddings.weight'), [config.typeVocabSize, H]), tokenTypes])]);
  x = norm(x, 'embeddings.LayerNorm');

  // Additive mask [batch, 1, 1, seq]: 0 for real tokens, MASK_LOGIT for padding.
  const maskBias = attentionMask(g, '', mask, { causal: false });
  const splitHeads = g.int64Tensor('const.split_heads', [0, 0, NH, D]);
  const mergeHeads = g.int64Tensor('const.merge_heads', [0, 0, H]);
  const invSqrtD = g.scalar('const.inv_sqrt_d', 1 / Math.sqrt(D));
  const act = ACTIVATIONS[config.hiddenAct];
  if (!act) throw new ConversionError(`hidden_act "${config.hiddenAct}" is not supported`);

  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}`;
    // The projections themselves are graph outputs (no copy node in between).
    const q = linear(x, `${p}.attention.self.query`, H, H, queryOutput(l));
    const k = linear(x, `${p}.attention.self.key`, H, H, keyOutput(l));
    const v = linear(x, `${p}.attention.self.value`, H, H, valueOutput(l));
    g.output(queryOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);
    g.output(keyOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);
    g.output(valueOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);

    const qh = g.node('Transpose', [g.node('Reshape', [q, splitHeads])], { perm: [0, 2, 1, 3] });
    const kt = g.node('Transpose', [g.node('Reshape', [k, splitHeads])], { perm: [0, 2, 3, 1] });
    const vh = g.node('Transpose', [g.node('Reshape', [v, splitHeads])], { perm: [0, 2, 1, 3] });
    const logits = g.node('Add', [g.node('Mul', [g.node('MatMul', [qh, kt]), invSqrtD]), maskBias]);
    g.node('Softmax', [logits], { axis: -1 }, [attentionOutput(l)]);
    g.output(attentionOutput(l), DataType.FLOAT, ['batch', NH, 'sequence', 'sequence']);

    valueNorms(g, vh, w.headGram({ weight: name(`${p}.attention.output.dense.weight`) }, NH, D, H), NH, valueNormOutput(l));

    const context = g.node('MatMul', [attentionOutput(l), vh]);
    const merged = g.node('Reshape', [g.node('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeHeads]);
    const x1 = norm(g.node('Add', [linear(merged, `${p}.attention.output.dense`, H, H), x]), `${p}.attention.output.LayerNorm`);
    const out = linear(activation(g, linear(x1, `${p}.intermediate.dense`, H, I), act), `${p}.output.dense`, I, H);
    x = norm(g.node('Add', [out, x1]), `${p}.output.LayerNorm`);
  }
  g.node('Identity', [x], undefined, [LAST_HIDDEN_STATE]);
  g.output(LAST_HIDDEN_STATE, DataType.FLOAT, ['batch', 'sequence', H]);
  return g;
}
