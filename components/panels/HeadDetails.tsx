'use client';
// The head under the pointer (in the matrix) or flown into: every registered figure for the
// current vectors, each with its colour on the heads' shared scale and its rank among heads.
import { useMemo } from 'react';
import type { RunResult } from '@/lib/run/types';
import { HEAD_FIGURES, figureScale, headFigure } from '@/lib/views/headFigures';
import { cssColour } from '@/lib/views/colour';
import { useView } from '../state/viewStore';
import { MODE_SHORT } from '../views/modes';

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '—');

export function HeadDetails({ result }: { result: RunResult }) {
  const focus = useView((s) => s.focus);
  const hovered = useView((s) => s.hovered);
  const mode = useView((s) => s.mode);
  const cell = hovered ?? focus;
  const { analysis } = result;
  const scales = useMemo(() => HEAD_FIGURES.map((f) => figureScale(analysis, f.key, mode)), [analysis, mode]);
  if (!cell) {
    return (
      <section className="panel-section" aria-label="Head details">
        <h2>Head</h2>
        <p className="line muted">Hover a head to read its figures; click it (or use Go to head) to fly in.</p>
      </section>
    );
  }
  const report = analysis.heads[cell.layer * result.data.heads + cell.head];
  return (
    <section className="panel-section" aria-label="Head details" data-testid="head-details">
      <h2>
        Head L{cell.layer} H{cell.head}
        {hovered && focus && (hovered.layer !== focus.layer || hovered.head !== focus.head) ? ' (under the pointer)' : ''} · {MODE_SHORT[mode]} vectors
      </h2>
      <table className="figures compact">
        <tbody>
          {HEAD_FIGURES.map((f, i) => {
            const v = headFigure(report, f.key, mode);
            const rank = analysis.heads.filter((h) => headFigure(h, f.key, mode) < v).length + 1;
            return (
              <tr key={f.key}>
                <th scope="row" title={`${f.label}. ${f.reading}${f.better ? `; ${f.better} is better` : ''}`}>
                  <span className="chip" style={{ background: cssColour(scales[i].colour(v)) }} />
                  {f.short}
                </th>
                <td>{fmt(v)}</td>
                <td className="muted" title={`rank among ${analysis.heads.length} heads, lowest first`}>
                  #{rank}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
