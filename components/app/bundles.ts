// Bundles in the page: open a .qkviz file (picker, drag-and-drop, ?bundle=URL) and show its run
// — matrix, layouts, figures, head similarities — with no model run; or save the run on screen
// as one. A bundle that cannot be opened says why and leaves what is on screen alone.
import type { HeadSimilarityKind } from '@/lib/analysis/headSimilarity';
import { type BundleLayout, openRunBundle, runBundleBytes } from '@/lib/run/bundleRun';
import { formatBytes } from '@/lib/util/format';
import { hasVectors } from '@/lib/data/layout';
import { BundleError, type ByteSource, bytesSource } from '@/lib/io/bundle';
import { corpusHash } from '@/lib/run/cacheKey';
import { appStore } from '../state/appStore';
import { setDraft } from './corpus';
import { headMapStore } from './headMap';
import { showResult } from './result';
import { setView } from '../state/viewStore';
import { download } from '../views/ExportMenu';
import packageJson from '@/package.json';

const set = appStore.setState;
const get = appStore.getState;

/** A bundle fetched from a URL is read whole: larger ones open from a file instead. */
const MAX_BUNDLE_URL_BYTES = 1024 ** 3;

async function open(source: ByteSource, name: string): Promise<void> {
  const bundle = await openRunBundle(source);
  const hash = await corpusHash(bundle.sentences);
  showResult(
    {
      result: bundle.result,
      source: 'bundle',
      hash,
      label: bundle.label,
      savedAt: Date.parse(bundle.createdAt) || null,
      bundle: { name, createdBy: bundle.createdBy, viewsOnly: bundle.viewsOnly },
    },
    bundle.layouts.map((l) => ({ view: { mode: l.mode, method: l.method, dims: l.dims }, heads: l.heads })),
  );
  const distances: Partial<Record<HeadSimilarityKind, (typeof bundle.similarities)[number]>> = {};
  for (const d of bundle.similarities) distances[d.kind] = d;
  headMapStore.setState({ resultId: get().shown?.id ?? null, distances });
  // The bundle's first layout is what the view shows.
  const first = bundle.layouts[0];
  if (first) setView({ mode: first.mode, method: first.method, dims: first.dims });
  // The corpus card holds the bundle's sentences exactly as given (a sentence may hold a
  // newline or edge spaces, which pasted text would split or trim): Run runs them on this page's model.
  setDraft({ source: 'upload', upload: { name: `${name} (its corpus)`, text: '', sentences: bundle.sentences }, uploadError: null });
  set({ bundleStatus: null });
}

async function guarded(name: string, source: () => Promise<ByteSource>): Promise<void> {
  if (get().run.status === 'running') {
    set({ bundleStatus: { kind: 'error', message: `Cannot open ${name} while a run is under way: cancel it first.` } });
    return;
  }
  set({ bundleStatus: { kind: 'reading', message: `Reading ${name}…` } });
  try {
    await open(await source(), name);
  } catch (e) {
    const message = e instanceof BundleError ? e.message : `Could not open it: ${(e as Error).message}`;
    set({ bundleStatus: { kind: 'error', message: `${name}: ${message}` } });
  }
}

/** A picked or dropped file, read by slices: a bundle larger than the tab opens its views without reading its vectors. */
export function openBundleFile(file: File): Promise<void> {
  return guarded(file.name, async () => ({ size: file.size, read: async (start, end) => new Uint8Array(await file.slice(start, end).arrayBuffer()) }));
}

export function openBundleUrl(url: string): Promise<void> {
  const name = decodeURIComponent(url.split('/').pop()?.split('?')[0] || url);
  return guarded(name, async () => {
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new Error(`it could not be fetched from ${url} (${(e as Error).message})`);
    }
    if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
    const size = Number(res.headers.get('content-length') ?? NaN);
    if (size > MAX_BUNDLE_URL_BYTES)
      throw new BundleError(
        'oversized',
        `it is ${formatBytes(size)}; bundles over ${formatBytes(MAX_BUNDLE_URL_BYTES)} open from a file (Open bundle…), which reads only the parts that fit.`,
      );
    return bytesSource(new Uint8Array(await res.arrayBuffer()));
  });
}

export function dismissBundleStatus(): void {
  set({ bundleStatus: null });
}

/** The run on screen, with every layout computed so far and the head similarities, as a .qkviz download. */
export async function saveBundle(): Promise<string> {
  const { shown, projection } = get();
  if (!shown || !projection) return 'Nothing to save yet.';
  const { data } = shown.result;
  const cells = data.layers * data.heads;
  const layouts: BundleLayout[] = [];
  for (const mode of ['raw', 'paper', 'optimized'] as const) {
    for (const method of ['pca', 'umap'] as const) {
      for (const dims of [2, 3] as const) {
        const view = { mode, method, dims };
        if (projection.layouts.count(view) !== cells) continue;
        layouts.push({ ...view, heads: Array.from({ length: cells }, (_, c) => projection.layouts.get(view, Math.floor(c / data.heads), c % data.heads)!) });
      }
    }
  }
  const { distances } = headMapStore.getState();
  const sentences = data.sentences.map((s) => s.text);
  const bytes = runBundleBytes(
    { result: shown.result, label: shown.label, sentences, layouts, similarities: Object.values(distances).filter((d) => d !== undefined) },
    { createdBy: `qkviz ${packageJson.version} (page)`, contents: hasVectors(data) ? 'full' : 'views' },
  );
  const name = `qkviz-${shown.result.manifest.name.replace(/[^\w.-]+/g, '_')}-${data.tokenCount}tokens.qkviz`;
  download(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), name);
  return `Saved ${name} (${formatBytes(bytes.byteLength)}, ${layouts.length} layout${layouts.length === 1 ? '' : 's'}).`;
}
