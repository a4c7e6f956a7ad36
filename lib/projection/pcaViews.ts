// The PCA layouts a run hands over with its result: the views the page shows first, for
// every head, so the matrix is whole the moment the run ends (other views are the
// projection workers' job).
import type { HeadNormalization, NormalizationMode } from '../analysis/normalize';
import { type QueryKeyData, headVectors } from '../data/layout';
import { throwIfAborted } from '../util/cancel';
import { headPcaLayout } from './pcaMoments';

export interface PcaView {
  mode: NormalizationMode;
  dims: 2 | 3;
}

/** Every head's PCA layout of one view (index layer * heads + head). */
export interface PcaLayouts {
  view: PcaView;
  heads: Float32Array[];
  /**
   * The heads' overviews rather than their full layouts: the first points of the run's sample
   * order, in that order (lib/views/lod.ts) — what the matrix draws of a run too large to hold
   * every head's every point; a head's full layout is recomputed from its stored vectors.
   */
  sampled?: boolean;
}

/** One head's layouts of `views`, from its normalizations (its PCA from its moments, pcaMoments.ts). */
export function headPcaLayouts(
  data: QueryKeyData,
  cell: number,
  params: Record<NormalizationMode, readonly HeadNormalization[]>,
  views: readonly PcaView[],
): Float32Array[] {
  const { q, k } = headVectors(data, Math.floor(cell / data.heads), cell % data.heads);
  return views.map(({ mode, dims }) => headPcaLayout(q, k, data.headDim, params[mode][cell], dims).coords);
}

/** Every head's layouts of `views` (cancellable between heads). */
export async function pcaLayouts(
  data: QueryKeyData,
  params: Record<NormalizationMode, readonly HeadNormalization[]>,
  views: readonly PcaView[],
  options: { signal?: AbortSignal; afterHead?: () => Promise<void> } = {},
): Promise<PcaLayouts[]> {
  const out = views.map((view) => ({ view, heads: [] as Float32Array[] }));
  for (let cell = 0; cell < data.layers * data.heads; cell++) {
    throwIfAborted(options.signal);
    headPcaLayouts(data, cell, params, views).forEach((coords, v) => out[v].heads.push(coords));
    await options.afterHead?.();
  }
  return out;
}
