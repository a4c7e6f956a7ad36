// Sizes that bound a run. Each is a named constant with its reason, so the UI can quote
// it when it refuses an input.

/** Padded tokens per model call: keeps one call short (well under a second on WASM), so
 * cancel is prompt and progress moves smoothly. Measured on the default corpus with
 * onnxruntime-node, 1,024 beat 2,048 and 4,096 (padding and cache misses grow faster
 * than per-call overhead shrinks). */
export const BATCH_TOKEN_BUDGET = 1024;
/** Sentences per model call; beyond this, batching gains nothing measurable. */
export const MAX_BATCH_SENTENCES = 64;
/** Σ(batch × seq²) per call: bounds the attention the model computes in one call (layers ×
 * heads × this × 4 bytes; 72 heads × 262,144 × 4 B = 75 MB for the default model, and what a
 * sampled batch outputs), i.e. one 512-token sentence. */
export const BATCH_ATTENTION_BUDGET = 512 * 512;
/** The most a run may hold: raw Q/K, attention and the normalized copies. Browsers give a
 * tab a few GB at most; above this a run would crash the tab, so it is refused up front. */
export const MAX_RESULT_BYTES = 1.5 * 1024 ** 3;
/** Sentences in one corpus: the UI lists them, and tokenising more takes noticeable time. */
export const MAX_SENTENCES = 20_000;
/** Q/K bytes one extraction window holds before a store writes it: each head's rows of a
 * window are written in one piece, so more is fewer writes; less is less memory. */
export const WINDOW_BYTES = 64 * 1024 ** 2;
/** Sentences whose attention the model is asked for, to check the attention recomputed from
 * Q/K: enough to catch a wrong scale, mask or rotation anywhere, spread over the corpus. */
export const ATTENTION_SAMPLE_SENTENCES = 24;
/** …and at most this much of it over every head (a 1B model's 512 heads × 512² would be 537 MB). */
export const ATTENTION_SAMPLE_BYTES = 32 * 1024 ** 2;
