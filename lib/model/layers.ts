// Graph pieces every converter builds from: activations, LayerNorm and RMSNorm, positions and
// the additive attention masks (padding, causal, sliding window).
import { DataType, type GraphBuilder } from '../onnx/graph';
import type { Activation } from './decoders';
import { MASK_LOGIT } from './outputs';
import type { Weights } from './weights';

/** relu, gelu (erf, exact), gelu_tanh (the tanh approximation), silu. */
export function activation(g: GraphBuilder, x: string, kind: Activation): string {
  if (kind === 'relu') return g.node('Relu', [x]);
  if (kind === 'silu') return g.node('Mul', [x, g.node('Sigmoid', [x])]);
  const half = g.scalar(g.fresh('const.half'), 0.5);
  const one = g.scalar(g.fresh('const.f_one'), 1);
  if (kind === 'gelu') {
    // 0.5·x·(1 + erf(x/√2)).
    const erf = g.node('Erf', [g.node('Mul', [x, g.scalar(g.fresh('const.inv_sqrt2'), Math.SQRT1_2)])]);
    return g.node('Mul', [g.node('Mul', [x, half]), g.node('Add', [erf, one])]);
  }
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
  const cube = g.node('Mul', [g.node('Mul', [x, x]), x]);
  const inner = g.node('Add', [x, g.node('Mul', [cube, g.scalar(g.fresh('const.gelu_c'), 0.044715)])]);
  const t = g.node('Tanh', [g.node('Mul', [inner, g.scalar(g.fresh('const.gelu_k'), Math.sqrt(2 / Math.PI))])]);
  return g.node('Mul', [g.node('Mul', [x, half]), g.node('Add', [t, one])]);
}

/** LayerNorm over the last axis with the checkpoint's `${name}.weight` and `${name}.bias` (or the names given). */
export function layerNorm(
  w: Weights,
  x: string,
  name: string,
  size: number,
  eps: number,
  outputName?: string,
  names = { weight: `${name}.weight`, bias: `${name}.bias` },
): string {
  return w.g.node(
    'LayerNormalization',
    [x, w.vector(names.weight, size), w.vector(names.bias, size)],
    { axis: -1, epsilon: { float: eps } },
    outputName ? [outputName] : undefined,
  );
}

/** RMSNorm over the last axis: x / √(mean(x²) + ε) · (w + add) — add 1 for Gemma's norms. */
export function rmsNorm(w: Weights, x: string, name: string, size: number, eps: number, add = 0, outputName?: string): string {
  const g = w.g;
  const meanSquare = g.node('ReduceMean', [g.node('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const normed = g.node('Div', [x, g.node('Sqrt', [g.node('Add', [meanSquare, g.scalar(g.fresh('const.eps'), eps)])])]);
  return g.node('Mul', [normed, w.vector(`${name}.weight`, size, { add })], undefined, outputName ? [outputName] : undefined);
}

/** The sequence's length and positions 0 … seq − 1 (int64). */
export function positionsOf(g: GraphBuilder, inputIds: string): { seqLen: string; positions: string } {
  const seqLen = g.node('Gather', [g.node('Shape', [inputIds]), g.int64Tensor(g.fresh('const.one_index'), [1], [])], { axis: 0 });
  const positions = g.node('Range', [g.int64Tensor(g.fresh('const.zero'), [0], []), seqLen, g.int64Tensor(g.fresh('const.one'), [1], [])]);
  return { seqLen, positions };
}

/**
 * Additive attention mask [batch, 1, …, seq, seq] with `extraAxes` more unit axes after the
 * first (1 for [b, 1, 1, seq, seq] grouped heads): MASK_LOGIT on padded keys, above the
 * diagonal when causal, and `window` or more tokens behind the query on a sliding layer.
 */
export function attentionMask(g: GraphBuilder, positions: string, mask: string, options: { causal: boolean; window?: number; extraAxes?: number }): string {
  const axes = [1, 2, 3].slice(0, 2 + (options.extraAxes ?? 0));
  const padded = g.node('Unsqueeze', [
    g.node('Sub', [g.scalar(g.fresh('const.f_one'), 1), g.node('Cast', [mask], { to: DataType.FLOAT })]),
    g.int64Tensor(g.fresh('const.mask_axes'), axes),
  ]);
  let blocked = padded;
  if (options.causal) {
    const rows = g.node('Unsqueeze', [positions, g.int64Tensor(g.fresh('const.rows_axis'), [1])]);
    const cols = g.node('Unsqueeze', [positions, g.int64Tensor(g.fresh('const.cols_axis'), [0])]);
    blocked = g.node('Add', [blocked, g.node('Cast', [g.node('Less', [rows, cols])], { to: DataType.FLOAT })]);
    if (options.window !== undefined) {
      const behind = g.node('Sub', [rows, cols]);
      const far = g.node('Not', [g.node('Less', [behind, g.int64Tensor(g.fresh('const.window'), [options.window], [])])]);
      blocked = g.node('Add', [blocked, g.node('Cast', [far], { to: DataType.FLOAT })]);
    }
    blocked = g.node('Min', [blocked, g.scalar(g.fresh('const.f_one_cap'), 1)]);
  }
  return g.node('Mul', [blocked, g.scalar(g.fresh('const.mask_logit'), MASK_LOGIT)]);
}

/**
 * Per-head value norms ‖f_h(x_j)‖ = √(v·G_h·vᵀ) as `outputName` [b, heads, seq], from values
 * `v` [b, …groups, seq, D] and Gram matrices `gram` of the matching shape [..., D, D] (see
 * Weights.headGram), reshaped to `heads` rows.
 */
export function valueNorms(g: GraphBuilder, v: string, gram: string, heads: number, outputName: string): void {
  const squared = g.node('ReduceSum', [g.node('Mul', [g.node('MatMul', [v, gram]), v]), g.int64Tensor(g.fresh('const.last_axis'), [-1])], { keepdims: 0 });
  const norms = g.node('Sqrt', [g.node('Relu', [squared])]);
  g.node('Reshape', [norms, g.int64Tensor(g.fresh('const.value_norm_shape'), [0, heads, -1])], undefined, [outputName]);
  g.output(outputName, DataType.FLOAT, ['batch', heads, 'sequence']);
}
