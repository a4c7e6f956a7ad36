// Converts a BERT-family safetensors checkpoint into an ONNX encoder graph (opset 17)
// that, besides last_hidden_state, exposes every layer's query and key projections and
// attention probabilities: what QKViz visualises. Sizes come from config.json.
import { DataType, GraphBuilder } from '../onnx/graph';
import type { BertConfig } from './config';
import { ATTENTION_MASK, INPUT_IDS, LAST_HIDDEN_STATE, MASK_LOGIT, TOKEN_TYPE_IDS, attentionOutput, keyOutput, queryOutput } from './outputs';
import type { SafeTensor } from './safetensors';

export class ConversionError extends Error {}

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

/** Looks tensors up by their usual names, whatever wrapper prefix or LayerNorm naming the checkpoint uses. */
class WeightTable {
  private prefix: string;
  private readonly distil: boolean;

  constructor(private tensors: Map<string, SafeTensor>) {
    const probe = 'embeddings.word_embeddings.weight';
    const found = WRAPPER_PREFIXES.find((p) => tensors.has(p + probe));
    if (found === undefined) {
      throw new ConversionError(`no "${probe}" tensor: this does not look like a BERT-family checkpoint`);
    }
    this.prefix = found;
    this.distil = tensors.has(`${found}transformer.layer.0.attention.q_lin.weight`);
  }

  /** Token types: DistilBERT has none, so one zero row (the inputs are all 0). */
  tokenTypes(rows: number, hidden: number): Float32Array {
    return this.distil ? new Float32Array(rows * hidden) : this.get('embeddings.token_type_embeddings.weight', [rows, hidden]);
  }

  get(bertName: string, shape: number[]): Float32Array {
    const name = this.distil ? DISTILBERT_NAMES.reduce((n, [from, to]) => n.replace(from, to), bertName) : bertName;
    // Old TF-converted checkpoints call LayerNorm's weight/bias gamma/beta.
    const legacy = name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    const t = this.tensors.get(this.prefix + name) ?? this.tensors.get(this.prefix + legacy);
    if (!t) throw new ConversionError(`checkpoint has no tensor "${this.prefix + name}"`);
    if (t.shape.join('x') !== shape.join('x')) {
      throw new ConversionError(`tensor "${name}" has shape [${t.shape}], config.json implies [${shape}]`);
    }
    return t.data;
  }
}

/** [out, in] (PyTorch Linear) → [in, out] (ONNX MatMul's right-hand side). */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  }
  return out;
}

export interface ConvertOptions {
  /** Goes into the ONNX metadata so a file says where it came from. */
  sourceName?: string;
}

/** Builds the ONNX bytes for `config` from a parsed safetensors checkpoint. */
export function convertBertToOnnx(config: BertConfig, tensors: Map<string, SafeTensor>, options: ConvertOptions = {}): Uint8Array {
  const w = new WeightTable(tensors);
  const g = new GraphBuilder('qkviz_bert_encoder');
  const { hidden: H, heads: NH, headDim: D, intermediate: I, layers: L } = config;

  const inputIds = g.input(INPUT_IDS, DataType.INT64, ['batch', 'sequence']);
  const mask = g.input(ATTENTION_MASK, DataType.INT64, ['batch', 'sequence']);
  const tokenTypes = g.input(TOKEN_TYPE_IDS, DataType.INT64, ['batch', 'sequence']);

  const linear = (x: string, name: string, inDim: number, outDim: number, outputName?: string): string => {
    const weight = g.floatTensor(`${name}.weight`, transpose(w.get(`${name}.weight`, [outDim, inDim]), outDim, inDim), [inDim, outDim]);
    const bias = g.floatTensor(`${name}.bias`, w.get(`${name}.bias`, [outDim]), [outDim]);
    return g.node('Add', [g.node('MatMul', [x, weight]), bias], undefined, outputName ? [outputName] : undefined);
  };
  const layerNorm = (x: string, name: string): string =>
    g.node(
      'LayerNormalization',
      [x, g.floatTensor(`${name}.weight`, w.get(`${name}.weight`, [H]), [H]), g.floatTensor(`${name}.bias`, w.get(`${name}.bias`, [H]), [H])],
      { axis: -1, epsilon: { float: config.layerNormEps } },
    );

  // Embeddings: word + position + token type, then LayerNorm.
  const wordTable = g.floatTensor('embeddings.word_embeddings.weight', w.get('embeddings.word_embeddings.weight', [config.vocabSize, H]), [
    config.vocabSize,
    H,
  ]);
  const posTable = g.floatTensor('embeddings.position_embeddings.weight', w.get('embeddings.position_embeddings.weight', [config.maxPositions, H]), [
    config.maxPositions,
    H,
  ]);
  const typeTable = g.floatTensor('embeddings.token_type_embeddings.weight', w.tokenTypes(config.typeVocabSize, H), [config.typeVocabSize, H]);
  const seqLen = g.node('Gather', [g.node('Shape', [inputIds]), g.int64Tensor('const.one_index', [1], [])], { axis: 0 });
  const posStart = g.int64Tensor('const.position_offset', [config.positionOffset], []);
  const posEnd = g.node('Add', [seqLen, posStart]);
  const positions = g.node('Range', [posStart, posEnd, g.int64Tensor('const.one', [1], [])]);
  let x = g.node('Add', [g.node('Gather', [wordTable, inputIds]), g.node('Gather', [posTable, positions])]);
  x = g.node('Add', [x, g.node('Gather', [typeTable, tokenTypes])]);
  x = layerNorm(x, 'embeddings.LayerNorm');

  // Additive mask [batch, 1, 1, seq]: 0 for real tokens, MASK_LOGIT for padding.
  const maskFloat = g.node('Cast', [mask], { to: DataType.FLOAT });
  const maskBias = g.node('Mul', [g.node('Sub', [g.scalar('const.f_one', 1), maskFloat]), g.scalar('const.mask_logit', MASK_LOGIT)]);
  const maskBias4 = g.node('Unsqueeze', [maskBias, g.int64Tensor('const.mask_axes', [1, 2])]);

  const splitHeads = g.int64Tensor('const.split_heads', [0, 0, NH, D]);
  const mergeHeads = g.int64Tensor('const.merge_heads', [0, 0, H]);
  const invSqrtD = g.scalar('const.inv_sqrt_d', 1 / Math.sqrt(D));
  const half = g.scalar('const.half', 0.5);
  const invSqrt2 = g.scalar('const.inv_sqrt2', Math.SQRT1_2);

  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}`;
    // The projections themselves are graph outputs (no copy node in between).
    const q = linear(x, `${p}.attention.self.query`, H, H, queryOutput(l));
    const k = linear(x, `${p}.attention.self.key`, H, H, keyOutput(l));
    const v = linear(x, `${p}.attention.self.value`, H, H);
    g.output(queryOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);
    g.output(keyOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);

    const qh = g.node('Transpose', [g.node('Reshape', [q, splitHeads])], { perm: [0, 2, 1, 3] });
    const kt = g.node('Transpose', [g.node('Reshape', [k, splitHeads])], { perm: [0, 2, 3, 1] });
    const vh = g.node('Transpose', [g.node('Reshape', [v, splitHeads])], { perm: [0, 2, 1, 3] });
    const logits = g.node('Add', [g.node('Mul', [g.node('MatMul', [qh, kt]), invSqrtD]), maskBias4]);
    g.node('Softmax', [logits], { axis: -1 }, [attentionOutput(l)]);
    g.output(attentionOutput(l), DataType.FLOAT, ['batch', NH, 'sequence', 'sequence']);

    const context = g.node('MatMul', [attentionOutput(l), vh]);
    const merged = g.node('Reshape', [g.node('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeHeads]);
    const attnOut = linear(merged, `${p}.attention.output.dense`, H, H);
    const x1 = layerNorm(g.node('Add', [attnOut, x]), `${p}.attention.output.LayerNorm`);

    const pre = linear(x1, `${p}.intermediate.dense`, H, I);
    const act = activation(g, pre, config.hiddenAct, half, invSqrt2);
    const out = linear(act, `${p}.output.dense`, I, H);
    x = layerNorm(g.node('Add', [out, x1]), `${p}.output.LayerNorm`);
  }
  g.node('Identity', [x], undefined, [LAST_HIDDEN_STATE]);
  g.output(LAST_HIDDEN_STATE, DataType.FLOAT, ['batch', 'sequence', H]);

  return g.toBytes({
    producer: 'qkviz',
    docString: 'BERT-family encoder with per-layer query/key projections and attention probabilities as outputs',
    metadata: {
      source: options.sourceName ?? 'unknown',
      layers: String(L),
      heads: String(NH),
      head_dim: String(D),
    },
  });
}

/** The feed-forward activation by config name: relu, gelu (erf), gelu_new / gelu_pytorch_tanh (tanh). */
export function activation(g: GraphBuilder, x: string, kind: string, half: string, invSqrt2: string): string {
  if (kind === 'relu') return g.node('Relu', [x]);
  if (kind === 'gelu') {
    // Exact GELU: 0.5·x·(1 + erf(x/√2)), as BERT's "gelu".
    const erf = g.node('Erf', [g.node('Mul', [x, invSqrt2])]);
    return g.node('Mul', [g.node('Mul', [x, half]), g.node('Add', [erf, g.scalar(g.fresh('const.f_one'), 1)])]);
  }
  // gelu_new / gelu_pytorch_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
  const cube = g.node('Mul', [g.node('Mul', [x, x]), x]);
  const inner = g.node('Add', [x, g.node('Mul', [cube, g.scalar(g.fresh('const.gelu_c'), 0.044715)])]);
  const t = g.node('Tanh', [g.node('Mul', [inner, g.scalar(g.fresh('const.gelu_k'), Math.sqrt(2 / Math.PI))])]);
  return g.node('Mul', [g.node('Mul', [x, half]), g.node('Add', [t, g.scalar(g.fresh('const.f_one'), 1)])]);
}
