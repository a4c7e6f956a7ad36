// Sizes that bound a run. Each is a named constant with its reason, so the UI can quote
// it when it refuses an input.

/** Padded tokens per model call: keeps one call short (well under a second on WASM), so
 * cancel is prompt and progress moves smoothly. Measured on the default corpus with
 * onnxruntime-node, 1,024 beat 2,048 and 4,096 (padding and cache misses grow faster
 * than per-call overhead shrinks). */
export const BATCH_TOKEN_BUDGET = 1024;
/** Sentences per model call; beyond this, batching gains nothing measurable. */
export const MAX_BATCH_SENTENCES = 64;
/** Σ(batch × seq²) per call: bounds the attention output of one call (layers × heads × this
 * × 4 bytes; 72 heads × 262,144 × 4 B = 75 MB for the default model), i.e. one 512-token sentence. */
export const BATCH_ATTENTION_BUDGET = 512 * 512;
/** The most a run may hold: raw Q/K, attention and the normalized copies. Browsers give a
 * tab a few GB at most; above this a run would crash the tab, so it is refused up front. */
export const MAX_RESULT_BYTES = 1.5 * 1024 ** 3;
/** Sentences in one corpus: the UI lists them, and tokenising more takes noticeable time. */
export const MAX_SENTENCES = 20_000;
