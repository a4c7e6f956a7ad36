// The benchmark worker's API (the /bench page): the extraction benchmark on WASM.
import type { ExtractionBenchmark } from '../bench/extraction';

export type BenchApi = {
  extraction: {
    args: { modelsUrl: string; model: string; corpusUrl: string; rounds: number };
    result: { result: ExtractionBenchmark; threads: number };
    progress: never;
  };
};
