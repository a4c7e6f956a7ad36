'use client';
// Per-head figures as a layers × heads grid, for one figure and normalization mode at a
// time, with how many heads the mode improves over raw.
import { useState } from 'react';
import { type Analysis, countImproved } from '@/lib/analysis/analyze';
import type { HeadMetrics } from '@/lib/analysis/metrics';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import { MODE_LABELS, ModeSelect } from './ModeSelect';

type Figure = keyof Omit<HeadMetrics, 'normalization'>;

const FIGURES: { key: Figure; label: string; range: [number, number] }[] = [
  { key: 'weightedDistanceRatio', label: 'Attention-weighted distance ÷ chance', range: [0.3, 1.2] },
  { key: 'argmaxDistanceRatio', label: 'Distance to most-attended key ÷ chance', range: [0.3, 1.2] },
  { key: 'distanceCorrelation', label: 'Distance–dot correlation (per query)', range: [-1, 0.5] },
  { key: 'weightedCorrelation', label: 'Attention-weighted distance–dot correlation', range: [-1, 0.5] },
  { key: 'seedCorrelation', label: 'Seed: corr(q·k, cosine distance)', range: [-1, 0.5] },
];

/** Lower is better for every figure: green for low, pink for high. */
function cellColor(value: number, [lo, hi]: [number, number]): string {
  const t = Math.min(1, Math.max(0, (value - lo) / (hi - lo)));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(0x2f, 0xb3)}, ${mix(0x8f, 0x2a)}, ${mix(0x4a, 0x6a)})`;
}

export function HeadTable({ analysis, layers, heads }: { analysis: Analysis; layers: number; heads: number }) {
  const [figure, setFigure] = useState<Figure>('weightedDistanceRatio');
  const [mode, setMode] = useState<NormalizationMode>('optimized');
  const spec = FIGURES.find((f) => f.key === figure)!;
  const improved = countImproved(analysis, mode, figure);
  const values = analysis.heads.map((h) => h.metrics[mode][figure]).sort((a, b) => a - b);
  const median = values[Math.floor(values.length / 2)];
  return (
    <section className="card" aria-label="Per-head figures">
      <h2>Per-head figures</h2>
      <div className="controls">
        <label>
          Figure{' '}
          <select value={figure} onChange={(e) => setFigure(e.target.value as Figure)}>
            {FIGURES.map((f) => (
              <option key={f.key} value={f.key}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <ModeSelect label="Normalization" value={mode} onChange={setMode} />
      </div>
      <p data-testid="improved-count">
        {mode === 'raw' ? 'Raw vectors, as the model computes them.' : `${MODE_LABELS[mode]} is better than raw (lower) on ${improved} of ${analysis.heads.length} heads.`} Median{' '}
        {median.toFixed(3)}; lower is better.
      </p>
      <table className="head-table">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            {Array.from({ length: heads }, (_, h) => (
              <th key={h} scope="col">
                H{h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: layers }, (_, l) => (
            <tr key={l}>
              <th scope="row">L{l}</th>
              {Array.from({ length: heads }, (_, h) => {
                const m = analysis.heads[l * heads + h].metrics;
                const v = m[mode][figure];
                return (
                  <td key={h} style={{ background: cellColor(v, spec.range) }} title={`L${l} H${h}: raw ${m.raw[figure].toFixed(3)}, paper ${m.paper[figure].toFixed(3)}, optimized ${m.optimized[figure].toFixed(3)}`}>
                    {v.toFixed(2)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
