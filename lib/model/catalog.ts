// Finds the models the setup step converted (models/index.json) and reads a model's
// manifest, turning a missing or broken file into a message that says what to run.
import { MANIFEST_FILE, MODELS_INDEX_FILE, type ModelManifest, type ModelsIndex } from './manifest';

export class ModelFilesError extends Error {}

const SETUP_HINT = 'run `npm run setup:model` (it converts the default model into public/models/)';

async function fetchJson<T>(url: string, what: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelFilesError(`could not fetch ${what} (${url}): ${(e as Error).message}`);
  }
  if (res.status === 404) throw new ModelFilesError(`${what} is missing (${url}): ${SETUP_HINT}`);
  if (!res.ok) throw new ModelFilesError(`${what} could not be loaded (${url}: HTTP ${res.status})`);
  try {
    return (await res.json()) as T;
  } catch {
    throw new ModelFilesError(`${what} is corrupt (${url} is not valid JSON): ${SETUP_HINT} with --force`);
  }
}

export function modelBaseUrl(modelsUrl: string, name: string): string {
  return `${modelsUrl.replace(/\/$/, '')}/${encodeURIComponent(name)}/`;
}

export async function fetchModelsIndex(modelsUrl: string): Promise<ModelsIndex> {
  const index = await fetchJson<ModelsIndex>(`${modelsUrl.replace(/\/$/, '')}/${MODELS_INDEX_FILE}`, 'the model list');
  if (!Array.isArray(index.models) || index.models.length === 0) {
    throw new ModelFilesError(`the model list names no model: ${SETUP_HINT}`);
  }
  return index;
}

export async function fetchManifest(modelsUrl: string, name: string): Promise<ModelManifest> {
  const manifest = await fetchJson<ModelManifest>(`${modelBaseUrl(modelsUrl, name)}${MANIFEST_FILE}`, `model ${name}'s manifest`);
  for (const key of ['layers', 'heads', 'headDim', 'maxTokens'] as const) {
    if (!Number.isInteger(manifest[key]) || manifest[key] <= 0) {
      throw new ModelFilesError(`model ${name}'s manifest has no valid "${key}": ${SETUP_HINT} with --force`);
    }
  }
  return manifest;
}
