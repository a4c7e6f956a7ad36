// Time left in a run's current stage, from throughput measured as it goes (and, before the
// first measurement, a rate measured earlier on this device), and a pre-run estimate of how
// long a corpus will take.
import type { RunProgress, RunStage } from './types';

export interface StageEstimate {
  /** Milliseconds left in this stage, or null when there is nothing to go on. */
  etaMs: number | null;
  /** Units (tokens, heads, bytes) per second measured in this stage so far, or null before two reports. */
  rate: number | null;
  /** Progress reports seen in this stage. */
  reports: number;
}

/** Follows one run's progress reports; `prior` gives a stage's expected rate before it is measured. */
export class StageClock {
  private stage: RunStage | null = null;
  private first = { at: 0, done: 0 };
  private reports = 0;

  constructor(private prior: (stage: RunStage) => number | null = () => null) {}

  update(p: RunProgress, now: number): StageEstimate {
    if (p.stage !== this.stage) {
      this.stage = p.stage;
      this.first = { at: now, done: p.done };
      this.reports = 0;
    }
    this.reports++;
    const elapsed = (now - this.first.at) / 1000;
    const measured = p.done - this.first.done;
    const rate = elapsed > 0 && measured > 0 ? measured / elapsed : null;
    const expected = rate ?? this.prior(p.stage);
    const left = Math.max(0, p.total - p.done);
    return { etaMs: expected && expected > 0 ? (left / expected) * 1000 : null, rate, reports: this.reports };
  }
}

/** Whether WebGPU measured this slow should give way to WASM: clearly slower, over more than one batch. */
export function slowerThanWasm(webgpuRate: number | null, wasmRate: number | null | undefined, reports: number): boolean {
  return webgpuRate !== null && !!wasmRate && reports >= 3 && webgpuRate < 0.8 * wasmRate;
}

export interface RunEstimate {
  extractMs: number;
  analyzeMs: number | null;
}

/** What a run's cost grows with: tokens for the model, query–key pairs (Σ n² over sentences, times heads) for the analysis. */
export interface RunSize {
  tokens: number;
  headPairs: number;
}

/** How long a run of this size should take, from rates measured on this device (tokens/s, head-pairs/s). */
export function estimateRun(size: RunSize, rates: { extract: number; analyze?: number }): RunEstimate {
  return {
    extractMs: (size.tokens / rates.extract) * 1000,
    analyzeMs: rates.analyze ? (size.headPairs / rates.analyze) * 1000 : null,
  };
}
