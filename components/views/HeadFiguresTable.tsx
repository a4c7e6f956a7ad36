'use client';
// Every head's figures in one sortable table (click a column to sort, again to reverse);
// a head's name flies the view into it.
import { useMemo, useState } from 'react';
import type { Analysis } from '@/lib/analysis/analyze';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import { HEAD_FIGURES, type HeadFigure, headFigure } from '@/lib/views/headFigures';
import { MODE_LABELS } from '../ModeSelect';

export function HeadFiguresTable({ analysis, mode, onOpen }: { analysis: Analysis; mode: NormalizationMode; onOpen: (layer: number, head: number) => void }) {
  const [sort, setSort] = useState<{ key: HeadFigure | 'head'; descending: boolean }>({ key: 'head', descending: false });
  const rows = useMemo(() => {
    const value = (i: number) => (sort.key === 'head' ? i : headFigure(analysis.heads[i], sort.key, mode));
    const order = analysis.heads.map((_, i) => i).sort((a, b) => value(a) - value(b) || a - b);
    return sort.descending ? order.reverse() : order;
  }, [analysis, mode, sort]);
  const header = (key: HeadFigure | 'head', label: string, title?: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort-button" title={title} onClick={() => setSort((s) => ({ key, descending: s.key === key ? !s.descending : false }))}>
        {label}
        {sort.key === key ? (sort.descending ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
  return (
    <div className="figures-table-wrap">
      <table className="figures sortable" aria-label={`Every head's figures, ${MODE_LABELS[mode]} vectors`} data-testid="head-figures">
        <thead>
          <tr>
            {header('head', 'Head')}
            {HEAD_FIGURES.map((f) => header(f.key, f.short, f.label))}
          </tr>
        </thead>
        <tbody>
          {rows.map((i) => {
            const h = analysis.heads[i];
            return (
              <tr key={i}>
                <th scope="row">
                  <button type="button" className="link-button" onClick={() => onOpen(h.layer, h.head)}>
                    L{h.layer} H{h.head}
                  </button>
                </th>
                {HEAD_FIGURES.map((f) => (
                  <td key={f.key}>{headFigure(h, f.key, mode).toFixed(3)}</td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
