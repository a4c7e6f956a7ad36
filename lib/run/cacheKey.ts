// Identifies cached results. A projection: the same model, corpus, normalization, method,
// dims and parameters give the same coordinates (projection is deterministic). A run: the
// same model file and corpus give the same vectors and figures.
import type { NormalizationMode } from '../analysis/normalize';
import type { ProjectionParams } from '../projection/project';

/** SHA-256 prefix of the sentences as a JSON list: unambiguous (a sentence may itself hold a newline). */
export async function corpusHash(sentences: readonly string[]): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(sentences));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A model as caches know it: its name and the hash of its graph (a re-conversion is another model). */
export const modelId = (name: string, sha256: string) => `${name}@${sha256.slice(0, 16)}`;

/** A run's model as caches know it: a rotary model's unrotated vectors are another result. */
export const runModelId = (manifest: { name: string; onnx: { sha256: string } }, rotary?: 'post' | 'pre') =>
  `${modelId(manifest.name, manifest.onnx.sha256)}${rotary === 'pre' ? '+pre' : ''}`;

/** Bump when what a run holds (or how the analysis computes it) changes. */
export const RUN_FORMAT_VERSION = 3;

export const runKey = (model: string, corpus: string) => `run-v${RUN_FORMAT_VERSION}|${model}|${corpus}`;

/** Bump when projection code changes what it computes, so stale cache entries are ignored. */
export const PROJECTION_VERSION = 4;

/** Layouts depend on the run too (its normalization constants), so the run's format is part of their key. */
export function projectionKey(model: string, corpus: string, mode: NormalizationMode, params: ProjectionParams): string {
  const { method, dims, seed, metric, nNeighbors, epochs, init } = params;
  const tuning = method === 'umap' ? `${metric}:${nNeighbors}:${epochs}:${seed}:${init ?? 'pca'}` : '';
  return `v${PROJECTION_VERSION}.${RUN_FORMAT_VERSION}|${model}|${corpus}|${mode}|${method}|${dims}|${tuning}`;
}
