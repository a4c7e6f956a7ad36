// Heads worker: distances between every pair of a run's heads and the head map's layouts,
// off the page's main thread (a second or two each on the default corpus), kept per run.
import { type HeadDistances, type HeadSimilarityKind, attentionDistances, geometryDistances } from '../lib/analysis/headSimilarity';
import { type HeadsApi, type HeadsRun, NOT_LOADED } from '../lib/protocol/heads';
import { headMapLayout } from '../lib/views/headMap';
import { type ScopeLike, serve } from '../lib/worker/rpc';
import { openVectors } from '../lib/browser/vectors';

let run: HeadsRun | null = null;
const distances = new Map<HeadSimilarityKind, HeadDistances>();

async function distancesOf(id: number, kind: HeadSimilarityKind): Promise<HeadDistances> {
  if (!run || run.id !== id) throw Object.assign(new Error('the heads worker holds no data for this run'), { kind: NOT_LOADED });
  let d = distances.get(kind);
  if (!d) {
    const vectors = await openVectors(run.vectors);
    d = kind === 'attention' ? await attentionDistances(run.data, vectors) : await geometryDistances(run.data, vectors, run.norms);
    distances.set(kind, d);
  }
  return d;
}

serve<HeadsApi>(
  self as unknown as ScopeLike,
  {
    load: (args) => {
      run = args;
      distances.clear();
      return null;
    },
    // Copies go back (the worker keeps its own for the next call).
    distances: async ({ id, kind }) => {
      const d = await distancesOf(id, kind);
      return { ...d, values: d.values.slice() };
    },
    layout: async ({ id, kind, method, dims }, context) => {
      const coords = headMapLayout(await distancesOf(id, kind), method, dims);
      context.transfer(coords.buffer as ArrayBuffer);
      return coords;
    },
  },
  (e) => (e as { kind?: string })?.kind,
);
