// Heads worker: distances between every pair of a run's heads and the head map's layouts,
// off the page's main thread (a second or two each on the default corpus), kept per run.
import { type HeadDistances, type HeadSimilarityKind, attentionDistances, geometryDistances } from '../lib/analysis/headSimilarity';
import { type HeadsApi, type HeadsRun, NOT_LOADED } from '../lib/protocol/heads';
import { headMapLayout } from '../lib/views/headMap';
import { type ScopeLike, serve } from '../lib/worker/rpc';

let run: HeadsRun | null = null;
const distances = new Map<HeadSimilarityKind, HeadDistances>();

function distancesOf(id: number, kind: HeadSimilarityKind): HeadDistances {
  if (!run || run.id !== id) throw Object.assign(new Error('the heads worker holds no data for this run'), { kind: NOT_LOADED });
  let d = distances.get(kind);
  if (!d) {
    d = kind === 'attention' ? attentionDistances(run.data) : geometryDistances(run.data, run.norms);
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
    distances: ({ id, kind }) => {
      const d = distancesOf(id, kind);
      return { ...d, values: d.values.slice() };
    },
    layout: ({ id, kind, method, dims }, context) => {
      const coords = headMapLayout(distancesOf(id, kind), method, dims);
      context.transfer(coords.buffer as ArrayBuffer);
      return coords;
    },
  },
  (e) => (e as { kind?: string })?.kind,
);
