// IndexedDB cache of finished head projections, keyed by projectionKey + head, so that
// reopening the same corpus shows the matrix without recomputing. Failures (private
// browsing, quota) only mean no cache.

const DB_NAME = 'qkviz';
const STORE = 'projections';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let db: Promise<IDBDatabase> | null = null;
const database = () => (db ??= open());

export async function loadHead(key: string, layer: number, head: number): Promise<Float32Array | null> {
  try {
    const store = (await database()).transaction(STORE, 'readonly').objectStore(STORE);
    return await new Promise((resolve) => {
      const r = store.get(`${key}|${layer}|${head}`);
      r.onsuccess = () => resolve(r.result instanceof Float32Array ? r.result : null);
      r.onerror = () => resolve(null);
    });
  } catch {
    return null;
  }
}

export async function saveHead(key: string, layer: number, head: number, coords: Float32Array): Promise<void> {
  try {
    const tx = (await database()).transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(coords, `${key}|${layer}|${head}`);
    await new Promise((resolve) => {
      tx.oncomplete = resolve;
      tx.onerror = resolve;
    });
  } catch {
    // No cache: the projection is still on screen.
  }
}
