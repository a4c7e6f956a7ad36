// Bundles in the page: open a .qkviz file (picker, drag-and-drop, ?bundle=URL) and show its run
// — matrix, layouts, figures, head similarities — with no model run, its vectors read from the
// file a head at a time; or save the run on screen as one, assembled from the run store's
// files without reading them into the page. A bundle that cannot be opened says why and leaves
// what is on screen alone.
import type { HeadSimilarityKind } from '@/lib/analysis/headSimilarity';
import { type BundleLayout, type BundleSource, openRunBundle, planRunBundle } from '@/lib/run/bundleRun';
import { formatBytes } from '@/lib/util/format';
import { BundleError, type ByteSource } from '@/lib/io/bundle';
import { blobSource, openVectors } from '@/lib/browser/vectors';
import { runStore } from '@/lib/browser/runCache';
import { storeRun } from '@/lib/store/runStore';
import type { RunResult, StoredRunExtra, VectorRef } from '@/lib/run/types';
import { corpusHash } from '@/lib/run/cacheKey';
import { appStore } from '../state/appStore';
import { setDraft } from './corpus';
import { headMapStore } from './headMap';
import { showResult } from './result';
import { scoreShown } from './runs';
import { setView } from '../state/viewStore';
import { download } from '../views/ExportMenu';
import packageJson from '@/package.json';

const set = appStore.setState;
const get = appStore.getState;

/** A bundle fetched from a URL is read whole: larger ones open from a file instead. */
const MAX_BUNDLE_URL_BYTES = 1024 ** 3;

async function open(file: Blob, name: string): Promise<void> {
  const bundle = await openRunBundle(blobSource(file));
  const hash = await corpusHash(bundle.sentences);
  let vectors: VectorRef | null = bundle.vectors ? { kind: 'bundle', file, name } : null;
  if (bundle.legacy) {
    // A format-1 bundle was read whole: its vectors go into this browser's run store once.
    const id = `bundle-${Date.now().toString(36)}`;
    const extra: StoredRunExtra = { ...bundle.result, corpus: bundle.sentences, label: bundle.label, corpusHash: hash };
    await storeRun(runStore(), id, bundle.legacy, 'float32', extra);
    vectors = { kind: 'store', id };
  }
  showResult(
    {
      result: { ...bundle.result, vectors },
      source: 'bundle',
      hash,
      label: bundle.label,
      corpus: bundle.sentences,
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
  // A bundle written without its figures (qkviz in Python) is scored here, as a run is after its matrix.
  void scoreShown();
}

async function guarded(name: string, source: () => Promise<Blob>): Promise<void> {
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

/** A picked or dropped file, read by slices: its views now, its vectors a head at a time when a view needs them. */
export function openBundleFile(file: File): Promise<void> {
  return guarded(file.name, async () => file);
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
    return res.blob();
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
        // Every head in full: held, or (a large run's) read from the cache or recomputed.
        const heads: Float32Array[] = new Array(cells);
        await projection.scheduler.eachFullLayout(view, (cell, coords) => (heads[cell] = coords));
        layouts.push({ ...view, heads });
      }
    }
  }
  const { distances } = headMapStore.getState();
  const vectors = shown.result.vectors ? await openVectors(shown.result.vectors) : null;
  const plan = planRunBundle(
    {
      result: shown.result,
      vectors,
      label: shown.label,
      sentences: shown.corpus,
      layouts,
      similarities: Object.values(distances).filter((d) => d !== undefined),
    },
    { createdBy: `qkviz ${packageJson.version} (page)` },
  );
  // One Blob of the header, the run store's files (not read into the page) and the rest.
  const parts: BlobPart[] = [plan.head as Uint8Array<ArrayBuffer>];
  let at = plan.head.length;
  for (const piece of plan.pieces) {
    if (piece.at > at) parts.push(new Uint8Array(piece.at - at));
    parts.push(await partOf(piece.source, vectors));
    at = piece.at + piece.byteLength;
  }
  if (plan.size > at) parts.push(new Uint8Array(plan.size - at));
  const blob = new Blob(parts, { type: 'application/octet-stream' });
  const name = `qkviz-${shown.result.manifest.name.replace(/[^\w.-]+/g, '_')}-${data.tokenCount}tokens.qkviz`;
  download(blob, name);
  return `Saved ${name} (${formatBytes(blob.size)}, ${layouts.length} layout${layouts.length === 1 ? '' : 's'}).`;
}

async function partOf(source: BundleSource, vectors: Awaited<ReturnType<typeof openVectors>> | null): Promise<BlobPart> {
  if ('bytes' in source) return source.bytes as Uint8Array<ArrayBuffer>;
  const blob = (await vectors?.fileBlob(source.file)) as Blob | null;
  if (!blob) throw new Error(`the run's ${source.file} could not be read`);
  return blob;
}
