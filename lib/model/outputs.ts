// Names of the QKViz encoder graph's inputs and outputs, shared by the converter that
// writes the graph and the engine and tests that read it.

export const INPUT_IDS = 'input_ids';
export const ATTENTION_MASK = 'attention_mask';
export const TOKEN_TYPE_IDS = 'token_type_ids';
export const LAST_HIDDEN_STATE = 'last_hidden_state';
/** A vision model's input: [batch, channels, height, width], preprocessed as its image processor does. */
export const PIXEL_VALUES = 'pixel_values';

/** Query projection x·W_q + b_q of layer l, before the 1/√d scaling: [batch, seq, hidden]. */
export const queryOutput = (layer: number): string => `query_${layer}`;
/** Key projection x·W_k + b_k of layer l: [batch, seq, hidden]. */
export const keyOutput = (layer: number): string => `key_${layer}`;
/** Rotary models: Q and K before the rotation (query_l / key_l are after it, what attention uses). */
export const queryPreOutput = (layer: number): string => `query_pre_${layer}`;
export const keyPreOutput = (layer: number): string => `key_pre_${layer}`;
/** Value projection x·W_v + b_v of layer l, one block per key/value head: [batch, seq, kvHeads·d]. */
export const valueOutput = (layer: number): string => `value_${layer}`;
/**
 * ‖f_h(x_j)‖ of layer l: the norm of each token's value through head h's slice of the output
 * projection, f_h(x) = (x·W_v + b_v)_h·W_O,h (Kobayashi et al. 2020), so ‖α_ij·f_h(x_j)‖ =
 * α_ij·‖f_h(x_j)‖: [batch, heads, seq].
 */
export const valueNormOutput = (layer: number): string => `value_norm_${layer}`;
/** Attention probabilities of layer l: [batch, heads, seq, seq]. */
export const attentionOutput = (layer: number): string => `attention_${layer}`;

/** Added to the logits of padded keys; large enough that exp() underflows to 0 in fp32. */
export const MASK_LOGIT = -1e9;
