// Time-left estimates from measured throughput, and when WebGPU should give way to WASM.
import { describe, expect, it } from 'vitest';
import { StageClock, estimateRun, slowerThanWasm } from '../../../lib/run/progress';
import { formatDuration } from '../../../lib/util/format';

describe('run progress', () => {
  it('estimates the time left from the rate measured in the stage, using a prior until there is one', () => {
    const clock = new StageClock((stage) => (stage === 'extract' ? 100 : null));
    // First report: nothing measured yet, the prior (100 tokens/s) says 10 s for 1,000 tokens.
    expect(clock.update({ stage: 'extract', done: 0, total: 1000 }, 0)).toEqual({ etaMs: 10_000, rate: null, reports: 1 });
    // 250 tokens in 0.5 s: 500 tokens/s measured, 750 left → 1.5 s.
    const e = clock.update({ stage: 'extract', done: 250, total: 1000 }, 500);
    expect(e.rate).toBe(500);
    expect(e.etaMs).toBeCloseTo(1500, 6);
    // A new stage starts its own clock; with no prior and nothing measured there is no estimate.
    expect(clock.update({ stage: 'analyze', done: 0, total: 72 }, 600)).toEqual({ etaMs: null, rate: null, reports: 1 });
    expect(clock.update({ stage: 'analyze', done: 36, total: 72 }, 2600).etaMs).toBeCloseTo(2000, 6);
  });

  it('calls WebGPU slower only when clearly so over several reports', () => {
    expect(slowerThanWasm(11, 560, 3)).toBe(true);
    expect(slowerThanWasm(11, 560, 2)).toBe(false);
    expect(slowerThanWasm(500, 560, 5)).toBe(false);
    expect(slowerThanWasm(null, 560, 5)).toBe(false);
    expect(slowerThanWasm(11, undefined, 5)).toBe(false);
  });

  it('estimates a run from stored rates and writes durations for people', () => {
    expect(estimateRun({ tokens: 5000, headPairs: 72 * 90_000 }, { extract: 1000, analyze: 72 * 45_000 })).toEqual({ extractMs: 5000, analyzeMs: 2000 });
    expect(formatDuration(400)).toBe('1 s');
    expect(formatDuration(9_600)).toBe('10 s');
    expect(formatDuration(80_000)).toBe('1 min 20 s');
    expect(formatDuration(120_000)).toBe('2 min');
  });
});
