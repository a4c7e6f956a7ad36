// The corpus worker's API: counting a corpus's tokens with the model's own tokenizer off the
// page's main thread (a pasted corpus of tens of thousands of tokens takes seconds to count).

export interface CountRequest {
  modelsUrl: string;
  model: string;
  sentences: string[];
}

export type CorpusApi = {
  /** Each sentence's token count, special tokens included, before any split. */
  count: { args: CountRequest; result: { lengths: Int32Array }; progress: { done: number; total: number } };
};
