// Bundles in the page: open a .qkviz file (picker, drag-and-drop, ?bundle=URL) and show its run
// — matrix, layouts, figures, head similarities — with no model run; or save the run on screen
// as one. A bundle that cannot be opened says why and leaves what is on screen alone.
import type { HeadSimilarityKind } from '@/lib/analysis/headSimilarity';
import { type BundleLayout, describeBundle, readRunBundle, runBundleBytes } from '@/lib/engine/bundleRun';
import { formatBytes } from '@/lib/engine/memory';
import { BundleError } from '@/lib/io/bundle';
import { corpusHash } from '@/lib/projection/cacheKey';
import { appStore } from '../state/appStore';
import { setDraft } from './corpus';
import { headMapStore } from './headMap';
import { showResult } from './result';
import { download } from '../views/ExportMenu';
import packageJson from '@/package.json';

const set = appStore.setState;
const get = appStore.getState;

/** Files over this are refused before reading: an ArrayBuffer this large would not fit a tab anyway. */
const MAX_BUNDLE_FILE_BYTES = 2 * 1024 ** 3;


async function open(bytes: Uint8Array, name: string): Promise<void> {
  const { meta, memoryBytes } = describeBundle(bytes);
  set({ bundleStatus: { kind: 'reading', message: `Opening ${name}: ${meta.data.layers} × ${meta.data.heads} heads of ${meta.manifest.name}, about ${formatBytes(memoryBytes)} in memory…` } });
  // Let the message paint before the checksums and arrays are read.
  await new Promise((r) => setTimeout(r, 30));
  const bundle = readRunBundle(bytes);
  const hash = await corpusHash(bundle.sentences);
  showResult(
    { result: bundle.result, source: 'bundle', hash, label: bundle.label, savedAt: Date.parse(bundle.createdAt) || null, bundle: { name, createdBy: bundle.createdBy } },
    bundle.layouts.map((l) => ({ view: { mode: l.mode, method: l.method, dims: l.dims }, heads: l.heads })),
  );
  const distances: Partial<Record<HeadSimilarityKind, (typeof bundle.similarities)[number]>> = {};
  for (const d of bundle.similarities) distances[d.kind] = d;
  headMapStore.setState({ resultId: get().shown?.id ?? null, distances });
  // The corpus card holds the bundle's sentences: Run runs them on this page's model.
  setDraft({ source: 'paste', pasted: bundle.sentences.join('\n') });
  set({ bundleStatus: null });
}

async function guarded(name: string, read: () => Promise<Uint8Array>): Promise<void> {
  if (get().run.status === 'running') {
    set({ bundleStatus: { kind: 'error', message: `Cannot open ${name} while a run is under way: cancel it first.` } });
    return;
  }
  set({ bundleStatus: { kind: 'reading', message: `Reading ${name}…` } });
  try {
    await open(await read(), name);
  } catch (e) {
    const message = e instanceof BundleError ? e.message : `Could not open ${name}: ${(e as Error).message}`;
    set({ bundleStatus: { kind: 'error', message: `${name}: ${message}` } });
  }
}

export function openBundleFile(file: File): Promise<void> {
  return guarded(file.name, async () => {
    if (file.size > MAX_BUNDLE_FILE_BYTES) throw new BundleError('oversized', `This file is ${formatBytes(file.size)}; a browser tab reads bundles up to ${formatBytes(MAX_BUNDLE_FILE_BYTES)}.`);
    return new Uint8Array(await file.arrayBuffer());
  });
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
    return new Uint8Array(await res.arrayBuffer());
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
  const bytes = runBundleBytes({ result: shown.result, label: shown.label, sentences, layouts, similarities: Object.values(distances).filter((d) => d !== undefined) }, { createdBy: `qkviz ${packageJson.version} (page)` });
  const name = `qkviz-${shown.result.manifest.name.replace(/[^\w.-]+/g, '_')}-${data.tokenCount}tokens.qkviz`;
  download(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), name);
  return `Saved ${name} (${formatBytes(bytes.byteLength)}, ${layouts.length} layout${layouts.length === 1 ? '' : 's'}).`;
}
