// Finished head layouts, keyed by projectionKey + head, so that reopening a corpus (or going
// back to a view) shows its layouts without recomputing. Failures only mean no cache.
import { STORES, idbGet, idbRange, idbWrite } from './idb';

const slot = (key: string, layer: number, head: number) => `${key}|${layer}|${head}`;

export async function saveHead(key: string, layer: number, head: number, coords: Float32Array): Promise<void> {
  try {
    await idbWrite([STORES.projections], (tx) => tx.objectStore(STORES.projections).put(coords, slot(key, layer, head)));
  } catch {
    // No cache: the layout is still on screen.
  }
}

/** Every cached head of one projection key, in one read: cell (layer * heads + head) → layout. */
export async function loadHeads(key: string, heads: number): Promise<Map<number, Float32Array>> {
  const out = new Map<number, Float32Array>();
  try {
    const [keys, values] = await idbRange(STORES.projections, `${key}|`, `${key}|\uffff`);
    keys.forEach((k, i) => {
      const m = /\|(\d+)\|(\d+)$/.exec(String(k));
      if (m && values[i] instanceof Float32Array) out.set(Number(m[1]) * heads + Number(m[2]), values[i] as Float32Array);
    });
  } catch {
    // No cache.
  }
  return out;
}

/** One cached head, or null. */
export async function loadHead(key: string, layer: number, head: number): Promise<Float32Array | null> {
  try {
    const value = await idbGet<unknown>(STORES.projections, slot(key, layer, head));
    return value instanceof Float32Array ? value : null;
  } catch {
    return null;
  }
}
