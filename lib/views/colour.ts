// Colour-by modes for query/key points: the reference's green/pink, light→dark ramps for
// ordered figures, categorical colours for position mod 5 and punctuation, and the same
// set in a colour-blind-safe palette (Okabe–Ito hues). Output is one RGB triple per point
// (queries then keys) and a legend describing it.
import type { PointKind, TokenTable } from './tokens';
import type { PatchMeans } from './patches';
import { patchOf } from '../corpus/images';

export type ColourMode =
  | 'kind'
  | 'position'
  | 'mod5'
  | 'punctuation'
  | 'norm'
  | 'valueNorm'
  | 'tokenLength'
  | 'sentenceLength'
  | 'frequency'
  | 'patchRow'
  | 'patchColumn'
  | 'patchColour'
  | 'brightness'
  | 'image';
export type PaletteName = 'reference' | 'colourblind';

/** `images`: offered for an image run only (its tokens are patches); `text`: for a text run only. */
export const COLOUR_MODES: { mode: ColourMode; label: string; images?: boolean; text?: boolean }[] = [
  { mode: 'kind', label: 'Query / key' },
  { mode: 'position', label: 'Position in sentence' },
  { mode: 'mod5', label: 'Position mod 5' },
  { mode: 'punctuation', label: 'Punctuation vs word', text: true },
  { mode: 'norm', label: 'Vector norm' },
  { mode: 'valueNorm', label: 'Value norm ‖f(x)‖' },
  { mode: 'tokenLength', label: 'Token length', text: true },
  { mode: 'sentenceLength', label: 'Sentence length', text: true },
  { mode: 'frequency', label: 'Token frequency', text: true },
  { mode: 'patchRow', label: 'Patch row', images: true },
  { mode: 'patchColumn', label: 'Patch column', images: true },
  { mode: 'patchColour', label: 'Patch colour', images: true },
  { mode: 'brightness', label: 'Patch brightness', images: true },
  { mode: 'image', label: 'Image', images: true },
];

export type Rgb = [number, number, number];

interface Palette {
  query: Rgb;
  key: Rgb;
  /** Light and dark ends of the query and key ramps. */
  queryRamp: [Rgb, Rgb];
  keyRamp: [Rgb, Rgb];
  categories: Rgb[];
  punctuation: Rgb;
}

export const hex = (s: string): Rgb => [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];
export const cssColour = ([r, g, b]: Rgb) => `rgb(${r}, ${g}, ${b})`;

export const PALETTES: Record<PaletteName, Palette> = {
  reference: {
    query: hex('#5FB96C'),
    key: hex('#E3378F'),
    queryRamp: [hex('#D2F0D6'), hex('#1D5A27')],
    keyRamp: [hex('#F9D0E4'), hex('#7A1247')],
    categories: ['#4E79A7', '#F28E2B', '#59A14F', '#E15759', '#B07AA1'].map(hex),
    punctuation: hex('#F2F2F2'),
  },
  // Okabe & Ito's palette stays distinguishable under the common colour-vision deficiencies.
  colourblind: {
    query: hex('#0072B2'),
    key: hex('#E69F00'),
    queryRamp: [hex('#CDE9F9'), hex('#003A5C')],
    keyRamp: [hex('#FCE7B8'), hex('#6E4800')],
    categories: ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#F0E442'].map(hex),
    punctuation: hex('#FFFFFF'),
  },
};

/** Longest token counted by the token-length ramp; longer ones get its darkest colour. */
const TOKEN_LENGTH_CAP = 12;

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as Rgb;

interface Range {
  min: number;
  max: number;
}

function ranges(table: TokenTable, withGrid = false): { sentenceLength: Range; frequency: Range; grid: { rows: number; columns: number } } {
  let sMin = Infinity;
  let sMax = -Infinity;
  let fMax = 1;
  let rows = 1;
  let columns = 1;
  for (let i = 0; i < table.count; i++) {
    sMin = Math.min(sMin, table.sentenceLength[i]);
    sMax = Math.max(sMax, table.sentenceLength[i]);
    fMax = Math.max(fMax, table.frequency[i]);
    // An image run's patch grid (a text run has no "r3c7" tokens).
    const at = withGrid ? patchOf(table.text[i]) : null;
    if (at) {
      rows = Math.max(rows, at[0] + 1);
      columns = Math.max(columns, at[1] + 1);
    }
  }
  return { sentenceLength: { min: sMin, max: sMax }, frequency: { min: 1, max: fMax }, grid: { rows, columns } };
}

/** A distinct colour per image: hues around the wheel by the golden angle, so neighbours differ. */
function imageColour(index: number): Rgb {
  const h = (index * 137.508) % 360;
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (0.62 - 0.5 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** A token's place on an ordered mode's ramp, 0 (light) … 1 (dark); null for other modes. */
/** `r` (the corpus-wide ranges) is only needed for sentence length and frequency; pass it when colouring every point. */
export function rampValue(table: TokenTable, mode: ColourMode, row: number, r?: ReturnType<typeof ranges>): number | null {
  const unit = (v: number, { min, max }: Range) => (max > min ? Math.min(1, Math.max(0, (v - min) / (max - min))) : 0);
  switch (mode) {
    case 'position':
      return table.sentenceLength[row] > 1 ? table.position[row] / (table.sentenceLength[row] - 1) : 0;
    case 'tokenLength':
      return unit(Math.min(table.length[row], TOKEN_LENGTH_CAP), { min: 1, max: TOKEN_LENGTH_CAP });
    case 'sentenceLength':
      return unit(table.sentenceLength[row], (r ?? ranges(table)).sentenceLength);
    case 'frequency':
      // Frequencies are Zipfian: a log scale keeps rare words from all looking the same.
      return unit(Math.log(table.frequency[row]), { min: 0, max: Math.log((r ?? ranges(table)).frequency.max) });
    case 'patchRow':
    case 'patchColumn': {
      const at = patchOf(table.text[row]);
      if (!at) return null;
      const { rows, columns } = (r ?? ranges(table, true)).grid;
      return mode === 'patchRow' ? unit(at[0], { min: 0, max: rows - 1 }) : unit(at[1], { min: 0, max: columns - 1 });
    }
    default:
      return null;
  }
}

/**
 * RGB per point (N queries then N keys), 3 bytes each. For 'norm' and 'valueNorm', which differ per head,
 * the points get their plain query/key colours here and the renderer applies the ramp.
 */
export function pointColours(table: TokenTable, mode: ColourMode, palette: PaletteName, patches?: PatchMeans | null): Uint8Array {
  const p = PALETTES[palette];
  const n = table.count;
  const out = new Uint8Array(2 * n * 3);
  const r = ranges(table, mode === 'patchRow' || mode === 'patchColumn');
  for (let point = 0; point < 2 * n; point++) {
    const key = point >= n;
    const row = key ? point - n : point;
    let c: Rgb;
    if (mode === 'mod5') c = p.categories[table.position[row] % 5];
    else if (mode === 'image') c = imageColour(table.sentence[row]);
    else if ((mode === 'patchColour' || mode === 'brightness') && patches && patches.brightness[row] >= 0) {
      const ramp = key ? p.keyRamp : p.queryRamp;
      c = mode === 'patchColour' ? [patches.rgb[row * 3], patches.rgb[row * 3 + 1], patches.rgb[row * 3 + 2]] : mix(ramp[0], ramp[1], patches.brightness[row]);
    } else if (mode === 'punctuation') c = table.punctuation[row] ? p.punctuation : key ? p.key : p.query;
    else {
      const t = rampValue(table, mode, row, r);
      const ramp = key ? p.keyRamp : p.queryRamp;
      c = t === null ? (key ? p.key : p.query) : mix(ramp[0], ramp[1], t);
    }
    out.set(c, point * 3);
  }
  return out;
}

export type Legend =
  | { type: 'swatches'; items: { label: string; colour: Rgb }[] }
  | { type: 'ramps'; title: string; low: string; high: string; query: [Rgb, Rgb]; key: [Rgb, Rgb] };

export function legendFor(table: TokenTable, mode: ColourMode, palette: PaletteName): Legend {
  const p = PALETTES[palette];
  const r = ranges(table);
  const ramps = (title: string, low: string, high: string): Legend => ({ type: 'ramps', title, low, high, query: p.queryRamp, key: p.keyRamp });
  switch (mode) {
    case 'kind':
      return {
        type: 'swatches',
        items: [
          { label: 'query', colour: p.query },
          { label: 'key', colour: p.key },
        ],
      };
    case 'mod5':
      return { type: 'swatches', items: p.categories.map((colour, i) => ({ label: `position mod 5 = ${i}`, colour })) };
    case 'punctuation':
      return {
        type: 'swatches',
        items: [
          { label: 'punctuation', colour: p.punctuation },
          { label: 'word (query)', colour: p.query },
          { label: 'word (key)', colour: p.key },
        ],
      };
    case 'position':
      return ramps('Position in sentence', 'first', 'last');
    case 'norm':
      return ramps('Vector norm (per head)', 'smallest', 'largest');
    case 'valueNorm':
      return ramps('Value norm ‖f(x)‖ = ‖v·W_O‖ of the token (per head)', 'smallest', 'largest');
    case 'tokenLength':
      return ramps('Token length', '1 character', `${TOKEN_LENGTH_CAP}+`);
    case 'sentenceLength':
      return ramps('Sentence length', `${r.sentenceLength.min} tokens`, `${r.sentenceLength.max} tokens`);
    case 'frequency':
      return ramps('Token frequency (log)', 'once', `${r.frequency.max}×`);
    case 'patchRow':
      return ramps('Patch row (special tokens: query/key colour)', 'top', 'bottom');
    case 'patchColumn':
      return ramps('Patch column (special tokens: query/key colour)', 'left', 'right');
    case 'patchColour':
      return { type: 'swatches', items: [{ label: 'each patch in its mean colour (special tokens: query/key)', colour: [128, 128, 128] }] };
    case 'brightness':
      return ramps('Patch brightness (special tokens: query/key colour)', 'dark', 'bright');
    case 'image': {
      const count = table.count ? table.sentence[table.count - 1] + 1 : 0;
      return { type: 'swatches', items: Array.from({ length: Math.min(count, 8) }, (_, i) => ({ label: `image ${i + 1}`, colour: imageColour(i) })) };
    }
  }
}

/** The colour value of one point in words, for the tooltip. `norm` is the point's vector norm. */
export function colourValueText(table: TokenTable, mode: ColourMode, row: number, kind: PointKind, norm: number | null): string {
  switch (mode) {
    case 'kind':
      return kind;
    case 'position':
      return `position ${(rampValue(table, mode, row) ?? 0).toFixed(2)} of the sentence`;
    case 'mod5':
      return `position mod 5 = ${table.position[row] % 5}`;
    case 'punctuation':
      return table.punctuation[row] ? 'punctuation' : 'word';
    case 'norm':
      return norm === null ? 'norm pending' : `norm ${norm.toFixed(3)}`;
    case 'valueNorm':
      return norm === null ? 'value norm pending' : `‖f(x)‖ ${norm.toFixed(3)}`;
    case 'tokenLength':
      return `${table.length[row]} character${table.length[row] === 1 ? '' : 's'}`;
    case 'sentenceLength':
      return `sentence of ${table.sentenceLength[row]} tokens`;
    case 'frequency':
      return `occurs ${table.frequency[row]}× in the corpus`;
    case 'patchRow':
    case 'patchColumn':
    case 'patchColour':
    case 'brightness':
      return patchOf(table.text[row]) ? `patch ${table.text[row]}` : 'special token';
    case 'image':
      return `image ${table.sentence[row] + 1}`;
  }
}
