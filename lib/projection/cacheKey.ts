// Identifies a projection result: the same model, corpus, normalization, method, dims and
// parameters give the same coordinates (projection is deterministic), so they can be cached.
import type { NormalizationMode } from '../analysis/normalize';
import type { ProjectionParams } from './project';

export async function corpusHash(sentences: readonly string[]): Promise<string> {
  const bytes = new TextEncoder().encode(sentences.join('\n'));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Bump when projection code changes what it computes, so stale cache entries are ignored. */
export const PROJECTION_VERSION = 1;

export function projectionKey(model: string, corpus: string, mode: NormalizationMode, params: ProjectionParams): string {
  const { method, dims, seed, metric, nNeighbors, epochs } = params;
  const tuning = method === 'umap' ? `${metric}:${nNeighbors}:${epochs}:${seed}` : '';
  return `v${PROJECTION_VERSION}|${model}|${corpus}|${mode}|${method}|${dims}|${tuning}`;
}
