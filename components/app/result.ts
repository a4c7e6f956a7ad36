// Showing a result (from a run or the cache): its layout store and projection scheduler, a
// shared link's view applied to the first one, and afterwards the projections and the address
// bar following the view.
import type { PcaView } from '@/lib/projection/pcaViews';
import { runModelId } from '@/lib/run/cacheKey';
import { sameCorpus, writeViewState } from '@/lib/views/urlState';
import { overviewPoints } from '@/lib/views/lod';
import { sampleOrderOf } from '../views/useViewData';
import { LayoutStore, type LayoutView } from '../projection/LayoutStore';
import { ProjectionScheduler } from '../projection/ProjectionScheduler';
import { type ShownResult, appStore } from '../state/appStore';
import { type ViewState, viewNewResult, viewStore } from '../state/viewStore';

/** Address bar updates wait for the view to settle this long. */
const URL_DEBOUNCE_MS = 200;

const set = appStore.setState;
const get = appStore.getState;

/** The layouts the current view shows: one pane, or the two of a compare mode. */
export function shownViews(v: Pick<ViewState, 'mode' | 'method' | 'dims' | 'compare'>): LayoutView[] {
  const main: LayoutView = { mode: v.mode, method: v.method, dims: v.dims };
  if (v.compare === 'projection')
    return [
      { ...main, method: 'pca' },
      { ...main, method: 'umap' },
    ];
  if (v.compare === 'normalization' && v.mode !== 'raw') return [{ ...main, mode: 'raw' }, main];
  return [main];
}

/** The PCA layouts the view shows first (a run computes them with its analysis). */
export function firstPcaViews(): PcaView[] {
  const views = shownViews(viewStore.getState());
  return [...new Map(views.map((v) => [`${v.mode}|${v.dims}`, { mode: v.mode, dims: v.dims }])).values()];
}

/** Shows a result (from a run or the cache) and starts its projections; the previous one goes. */
export function showResult(next: Omit<ShownResult, 'id'>, extraLayouts: { view: LayoutView; heads: Float32Array[] }[] = []): void {
  const shown: ShownResult = { ...next, id: (get().shown?.id ?? 0) + 1 };
  const previous = get().projection;
  previous?.scheduler.dispose();
  const { data, manifest } = shown.result;
  // A run with more points a head than the matrix overview draws keeps overviews, and a few heads in full.
  const share = overviewPoints(data.layers, data.heads, data.tokenCount);
  const layouts = new LayoutStore(data.layers, data.heads, share < 2 * data.tokenCount ? { order: sampleOrderOf(shown.result), overviewPoints: share } : null);
  const scheduler = new ProjectionScheduler(shown.result, layouts, runModelId(manifest, data.rotary), shown.hash);
  // Layouts the run computed with its analysis go to the layout store (and its cache), not the run's record.
  const computed = shown.result.layouts;
  if (computed) {
    delete shown.result.layouts;
    scheduler.seed(computed);
  }
  scheduler.seedViews(extraLayouts, false);
  const link = get().link;
  const linkNotice =
    link && !sameCorpus(link.corpus, shown.hash)
      ? `This address was made with another corpus (hash ${link.corpus}); its view settings were applied to this run. Paste that corpus and Run again to see exactly the view it holds.`
      : null;
  set({ shown, projection: { layouts, scheduler }, link: null, linkNotice, scoring: null, scoringError: null });
  // The view follows the new result; its subscriber (followView) asks the scheduler for what it shows.
  viewNewResult({ layers: data.layers, heads: data.heads, tokens: data.tokenCount }, link);
}

let following = false;

/** View fields the projections depend on, and those the address bar carries. */
const PROJECTED: (keyof ViewState)[] = ['mode', 'method', 'dims', 'compare', 'focus'];
const IN_ADDRESS: (keyof ViewState)[] = [...PROJECTED, 'colourMode', 'palette', 'overlay', 'selected'];

/** Projections and the address bar follow the view (not every change of it: hovering moves neither). */
export function followView(): void {
  if (following) return;
  following = true;
  let scheduler: ProjectionScheduler | null = null;
  viewStore.subscribe((v, before) => {
    const changed = (keys: (keyof ViewState)[]) => keys.some((k) => v[k] !== before[k]);
    const projection = get().projection;
    if (projection && (projection.scheduler !== scheduler || changed(PROJECTED))) {
      scheduler = projection.scheduler;
      void scheduler.want(shownViews(v), v.focus);
    }
    if (changed(IN_ADDRESS) || v.shape !== before.shape) syncUrlSoon();
  });
}

let urlTimer: ReturnType<typeof setTimeout> | undefined;
/** Off where the explorer is embedded in another page (the notebook widget): that page's address is not the view's. */
let addressBar = true;

export function followAddressBar(on: boolean): void {
  addressBar = on;
}

export function syncUrlSoon(): void {
  clearTimeout(urlTimer);
  if (!addressBar) return;
  urlTimer = setTimeout(() => {
    const { shown, link, device } = get();
    // A link's own settings stay in the address bar until they are applied.
    if (link) return;
    const v = viewStore.getState();
    const params = writeViewState(new URLSearchParams(window.location.search), { ...linkState(v), corpus: shown?.hash });
    if (device === 'auto') params.delete('device');
    else params.set('device', device);
    window.history.replaceState(null, '', `${window.location.pathname}?${params}`);
  }, URL_DEBOUNCE_MS);
}

/** The view as a shared link writes it (the camera is added when a link is made). */
export function linkState(v: ViewState) {
  return {
    head: v.focus ?? undefined,
    mode: v.mode,
    method: v.method,
    dims: v.dims,
    colour: v.colourMode,
    palette: v.palette,
    overlay: v.overlay === 'none' ? undefined : v.overlay,
    compare: v.compare,
    point: v.selected ?? undefined,
    weigh: v.linkWeight === 'value' ? ('value' as const) : undefined,
  };
}
