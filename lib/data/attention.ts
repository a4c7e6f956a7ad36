// How a layer computes attention from its queries and keys, as the model does it — what
// lib/analysis recomputes attention with, since a run stores Q/K and not attention.

export interface AttentionSpec {
  /** Logits are scale · q·k (1/√d unless the model says otherwise, e.g. Gemma's query_pre_attn_scalar). */
  scale: number;
  /** Gemma 2's logit soft-capping: cap · tanh(logit / cap); absent = none. */
  softcap?: number;
  /** A sliding-window layer: a query sees only keys fewer than this many tokens behind it; absent = all. */
  window?: number;
}

/** The plain softmax(q·k/√d) of every layer (BERT, GPT-2, Llama without extras). */
export const plainAttention = (layers: number, headDim: number): AttentionSpec[] => Array.from({ length: layers }, () => ({ scale: 1 / Math.sqrt(headDim) }));

/** Whether translating keys by a vector leaves this attention unchanged (soft-capping breaks the shift invariance). */
export const translationInvariant = (spec: AttentionSpec): boolean => !spec.softcap;
