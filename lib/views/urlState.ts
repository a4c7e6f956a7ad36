// What a shared link carries: enough of the view to reopen it — the corpus it was made
// with (a hash prefix), the head, vectors mode, projection, colouring, overlay, compare
// mode, selected point and camera. Parsing is forgiving: anything unknown is dropped.
import { NORMALIZATION_MODES, type NormalizationMode } from '../analysis/normalize';
import type { ProjectionMethod } from '../projection/project';
import { COLOUR_MODES, type ColourMode, type PaletteName } from './colour';
import { HEAD_FIGURES, type HeadFigure } from './headFigures';

export type CompareMode = 'off' | 'normalization' | 'projection';

export interface ViewState {
  corpus?: string;
  head?: { layer: number; head: number };
  mode?: NormalizationMode;
  method?: ProjectionMethod;
  dims?: 2 | 3;
  colour?: ColourMode;
  palette?: PaletteName;
  overlay?: HeadFigure;
  compare?: CompareMode;
  point?: number;
  /** Links weighed by ‖α·f(x)‖ rather than attention. */
  weigh?: 'value';
  /** Camera position then orbit target, x y z each. */
  camera?: number[];
}

/** Characters of the corpus SHA-256 kept in a link: plenty to tell corpora apart. */
export const CORPUS_HASH_CHARS = 16;

/** Keys this module owns in the query string (others, such as model and device, are kept). */
const KEYS = ['corpus', 'head', 'mode', 'method', 'dims', 'colour', 'palette', 'overlay', 'compare', 'point', 'weigh', 'camera'] as const;

export function writeViewState(params: URLSearchParams, s: ViewState): URLSearchParams {
  const out = new URLSearchParams(params);
  for (const k of KEYS) out.delete(k);
  if (s.corpus) out.set('corpus', s.corpus.slice(0, CORPUS_HASH_CHARS));
  if (s.head) out.set('head', `L${s.head.layer}H${s.head.head}`);
  if (s.mode) out.set('mode', s.mode);
  if (s.method) out.set('method', s.method);
  if (s.dims) out.set('dims', String(s.dims));
  if (s.colour) out.set('colour', s.colour);
  if (s.palette) out.set('palette', s.palette);
  if (s.overlay) out.set('overlay', s.overlay);
  if (s.compare && s.compare !== 'off') out.set('compare', s.compare);
  if (s.point !== undefined) out.set('point', String(s.point));
  if (s.weigh) out.set('weigh', s.weigh);
  if (s.camera) out.set('camera', s.camera.map((v) => Number(v.toFixed(3))).join(','));
  return out;
}

export function readViewState(params: URLSearchParams): ViewState {
  const s: ViewState = {};
  const corpus = params.get('corpus');
  if (corpus && /^[0-9a-f]{8,64}$/.test(corpus)) s.corpus = corpus;
  const head = params.get('head')?.match(/^L(\d+)H(\d+)$/);
  if (head) s.head = { layer: Number(head[1]), head: Number(head[2]) };
  const mode = params.get('mode');
  if (NORMALIZATION_MODES.includes(mode as NormalizationMode)) s.mode = mode as NormalizationMode;
  const method = params.get('method');
  if (method === 'pca' || method === 'umap') s.method = method;
  const dims = params.get('dims');
  if (dims === '2' || dims === '3') s.dims = Number(dims) as 2 | 3;
  const colour = params.get('colour');
  if (COLOUR_MODES.some((c) => c.mode === colour)) s.colour = colour as ColourMode;
  const palette = params.get('palette');
  if (palette === 'reference' || palette === 'colourblind') s.palette = palette;
  const overlay = params.get('overlay');
  if (HEAD_FIGURES.some((f) => f.key === overlay)) s.overlay = overlay as HeadFigure;
  const compare = params.get('compare');
  if (compare === 'normalization' || compare === 'projection') s.compare = compare;
  const point = Number(params.get('point') ?? NaN);
  if (Number.isInteger(point) && point >= 0) s.point = point;
  if (params.get('weigh') === 'value') s.weigh = 'value';
  const camera = params.get('camera')?.split(',').map(Number);
  if (camera?.length === 6 && camera.every(Number.isFinite)) s.camera = camera;
  return s;
}

/** Does a link's corpus hash (a prefix) name this corpus? */
export const sameCorpus = (linkHash: string | undefined, fullHash: string) => !linkHash || fullHash.startsWith(linkHash);
