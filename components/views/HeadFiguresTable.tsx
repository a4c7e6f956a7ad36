'use client';
// Every head's figures in one sortable table (click a column to sort, again to reverse),
// each cell tinted on its figure's colour-blind-safe scale, the same one the matrix overlay
// uses; a head's name flies the view into it.
import { useMemo, useState } from 'react';
import type { Analysis } from '@/lib/analysis/analyze';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import { type Rgb, cssColour } from '@/lib/views/colour';
import { HEAD_FIGURES, type HeadFigure, figureScale, headFigure } from '@/lib/views/headFigures';
import { MODE_LABELS } from './modes';

/** Dark text on the bright end of the scale, light text on the dark end (WCAG relative luminance). */
function textOn([r, g, b]: Rgb): string {
  const lin = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) > 0.18 ? '#0b0d10' : '#f4f6fa';
}

export function HeadFiguresTable({ analysis, mode, onOpen }: { analysis: Analysis; mode: NormalizationMode; onOpen: (layer: number, head: number) => void }) {
  const [sort, setSort] = useState<{ key: HeadFigure | 'head'; descending: boolean }>({ key: 'head', descending: false });
  const scales = useMemo(() => HEAD_FIGURES.map((f) => figureScale(analysis, f.key, mode)), [analysis, mode]);
  const rows = useMemo(() => {
    const value = (i: number) => (sort.key === 'head' ? i : headFigure(analysis.heads[i], sort.key, mode));
    const order = analysis.heads.map((_, i) => i).sort((a, b) => value(a) - value(b) || a - b);
    return sort.descending ? order.reverse() : order;
  }, [analysis, mode, sort]);
  const header = (key: HeadFigure | 'head', label: string, title?: string) => (
    <th key={key} scope="col" aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
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
            {HEAD_FIGURES.map((f) => header(f.key, f.short, `${f.label}; ${f.reading}${f.better ? `, ${f.better} is better` : ''}`))}
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
                {HEAD_FIGURES.map((f, c) => {
                  const v = headFigure(h, f.key, mode);
                  const colour = scales[c].colour(v);
                  return (
                    <td key={f.key} style={{ background: cssColour(colour), color: textOn(colour) }}>
                      {v.toFixed(3)}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
