// Per-head figures, registered once for every view that shows them (the heads table, the
// matrix overlay, the head details, the CSV): label, which way is better, natural range, and
// one colour-blind-safe sequential scale (viridis) over the heads' values.
import type { Analysis, HeadReport } from '../analysis/analyze';
import { NORMALIZATION_MODES, type NormalizationMode } from '../analysis/normalize';
import type { Rgb } from './colour';

export type HeadFigure =
  | 'weightedCorrelation'
  | 'distanceCorrelation'
  | 'seedCorrelation'
  | 'argmaxDistanceRatio'
  | 'weightedDistanceRatio'
  | 'entropy'
  | 'specialShare'
  | 'valueSpecialShare';

export interface HeadFigureSpec {
  key: HeadFigure;
  label: string;
  /** Short column heading. */
  short: string;
  /** The name in a menu: shorter than the label, plainer than the heading. */
  menu: string;
  /** Whether the figure depends on the normalization mode (the attention-only ones do not). */
  perMode: boolean;
  /** What a low value means, for the legend. */
  reading: string;
  /** Which way is better for a layout; null where neither is (how sharp attention is, say). */
  better: 'lower' | 'higher' | null;
  /** The figure's possible values (null: unbounded on that side). */
  range: [number | null, number | null];
}

export const HEAD_FIGURES: HeadFigureSpec[] = [
  {
    key: 'weightedCorrelation',
    menu: 'Attention-weighted correlation',
    label: 'Distance–attention correlation (attention-weighted)',
    short: 'weighted corr',
    perMode: true,
    reading: 'low: attended keys are near',
    better: 'lower',
    range: [-1, 1],
  },
  {
    key: 'distanceCorrelation',
    menu: 'Distance–dot correlation',
    label: 'Distance–dot correlation (per query)',
    short: 'dist–dot corr',
    perMode: true,
    reading: 'low: distance tracks q·k',
    better: 'lower',
    range: [-1, 1],
  },
  {
    key: 'seedCorrelation',
    menu: 'Seed correlation',
    label: 'Seed: corr(q·k, cosine distance)',
    short: 'seed corr',
    perMode: true,
    reading: 'low: distance tracks q·k',
    better: 'lower',
    range: [-1, 1],
  },
  {
    key: 'argmaxDistanceRatio',
    menu: 'Top-key distance ÷ chance',
    label: 'Distance to most-attended key ÷ chance',
    short: 'argmax ÷ chance',
    perMode: true,
    reading: 'low: top key sits close',
    better: 'lower',
    range: [0, null],
  },
  {
    key: 'weightedDistanceRatio',
    menu: 'Weighted distance ÷ chance',
    label: 'Attention-weighted distance ÷ chance',
    short: 'weighted ÷ chance',
    perMode: true,
    reading: 'low: attended keys sit close',
    better: 'lower',
    range: [0, null],
  },
  {
    key: 'entropy',
    menu: 'Attention entropy',
    label: 'Attention entropy (nats)',
    short: 'entropy',
    perMode: false,
    reading: 'low: sharp attention',
    better: null,
    range: [0, null],
  },
  {
    key: 'specialShare',
    menu: '[CLS]/[SEP] share',
    label: 'Share of attention on [CLS]/[SEP]',
    short: '[CLS]/[SEP] share',
    perMode: false,
    reading: 'high: attends to special tokens',
    better: null,
    range: [0, 1],
  },
  {
    key: 'valueSpecialShare',
    menu: '[CLS]/[SEP] share of ‖α·f(x)‖',
    label: 'Share of the head’s output norm ‖α·f(x)‖ from [CLS]/[SEP]',
    short: '‖α·f(x)‖ share',
    perMode: false,
    reading: 'low beside a high attention share: attends there but moves little',
    better: null,
    range: [0, 1],
  },
];

export const figureSpec = (figure: HeadFigure) => HEAD_FIGURES.find((f) => f.key === figure)!;

export function headFigure(report: HeadReport, figure: HeadFigure, mode: NormalizationMode): number {
  if (figure === 'entropy' || figure === 'specialShare') return report.attention[figure];
  if (figure === 'valueSpecialShare') return report.attention.valueSpecialShare ?? NaN;
  return report.metrics[mode][figure];
}

/** Viridis stops: perceptually uniform and readable with colour-vision deficiencies. */
const VIRIDIS: Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

export function viridis(t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(VIRIDIS[i][c] + (VIRIDIS[i + 1][c] - VIRIDIS[i][c]) * f)) as Rgb;
}

export const VIRIDIS_CSS = `linear-gradient(to right, ${VIRIDIS.map(([r, g, b]) => `rgb(${r}, ${g}, ${b})`).join(', ')})`;

export interface FigureScale {
  min: number;
  max: number;
  colour(value: number): Rgb;
}

/** The scale a figure is coloured on: viridis from the lowest to the highest head (dark → bright). */
export function figureScale(analysis: Analysis, figure: HeadFigure, mode: NormalizationMode): FigureScale {
  const finite = analysis.heads.map((h) => headFigure(h, figure, mode)).filter(Number.isFinite);
  const min = finite.length ? Math.min(...finite) : 0;
  const max = finite.length ? Math.max(...finite) : 1;
  return { min, max, colour: (v) => (Number.isFinite(v) ? viridis(max > min ? (v - min) / (max - min) : 0.5) : [60, 60, 60]) };
}

/** One colour per head (cell order) on the figure's scale, and that scale's ends. */
export function overlayColours(analysis: Analysis, figure: HeadFigure, mode: NormalizationMode): { colours: Uint8Array; min: number; max: number } {
  const scale = figureScale(analysis, figure, mode);
  const colours = new Uint8Array(analysis.heads.length * 3);
  analysis.heads.forEach((h, i) => colours.set(scale.colour(headFigure(h, figure, mode)), i * 3));
  return { colours, min: scale.min, max: scale.max };
}

/** Every per-head figure for every mode, one row per head, as CSV. */
export function headFiguresCsv(analysis: Analysis): string {
  const perMode = HEAD_FIGURES.filter((f) => f.perMode);
  const header = [
    'layer',
    'head',
    'entropy',
    'special_share',
    'value_special_share',
    ...NORMALIZATION_MODES.flatMap((m) => [...perMode.map((f) => `${m}_${snake(f.key)}`), `${m}_translation_norm`, `${m}_scale`]),
  ];
  const rows = analysis.heads.map((h) => [
    h.layer,
    h.head,
    h.attention.entropy,
    h.attention.specialShare,
    h.attention.valueSpecialShare ?? NaN,
    ...NORMALIZATION_MODES.flatMap((m) => [
      ...perMode.map((f) => h.metrics[m][f.key as keyof HeadReport['metrics'][NormalizationMode]] as number),
      h.metrics[m].normalization.translationNorm,
      h.metrics[m].normalization.scale,
    ]),
  ]);
  return (
    [header.join(','), ...rows.map((r) => r.map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(8) : String(v))).join(','))].join('\n') +
    '\n'
  );
}

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
