// The browser's IndexedDB database of cached results: layouts per head ('projections'), whole
// runs ('runs') and a small index of the runs ('runIndex', read without loading any run).
// Every failure (private browsing, quota, a blocked upgrade) only means no cache.

const DB_NAME = 'qkviz';
const DB_VERSION = 2;
export const STORES = { projections: 'projections', runs: 'runs', runIndex: 'runIndex' } as const;

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const name of Object.values(STORES)) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('the cache database is open in an older tab'));
  });
}

let db: Promise<IDBDatabase> | null = null;
const database = () => (db ??= open().catch((e) => ((db = null), Promise.reject(e))));

const done = (tx: IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('the cache write was aborted'));
  });

export async function idbGet<T>(store: string, key: string): Promise<T | undefined> {
  const tx = (await database()).transaction(store, 'readonly');
  return new Promise((resolve, reject) => {
    const r = tx.objectStore(store).get(key);
    r.onsuccess = () => resolve(r.result as T | undefined);
    r.onerror = () => reject(r.error);
  });
}

export async function idbGetAll<T>(store: string): Promise<T[]> {
  const tx = (await database()).transaction(store, 'readonly');
  return new Promise((resolve, reject) => {
    const r = tx.objectStore(store).getAll();
    r.onsuccess = () => resolve(r.result as T[]);
    r.onerror = () => reject(r.error);
  });
}

/** Keys and values of every entry with a key in [lower, upper], in one transaction. */
export async function idbRange(store: string, lower: string, upper: string): Promise<[IDBValidKey[], unknown[]]> {
  const objects = (await database()).transaction(store, 'readonly').objectStore(store);
  const range = IDBKeyRange.bound(lower, upper);
  const request = <T,>(r: IDBRequest<T>) =>
    new Promise<T>((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  return Promise.all([request(objects.getAllKeys(range)), request(objects.getAll(range))]);
}

/** Puts and deletes in one transaction (all or nothing). */
export async function idbWrite(stores: string[], write: (tx: IDBTransaction) => void): Promise<void> {
  const tx = (await database()).transaction(stores, 'readwrite');
  write(tx);
  await done(tx);
}

export async function idbClear(): Promise<void> {
  await idbWrite(Object.values(STORES), (tx) => Object.values(STORES).forEach((s) => tx.objectStore(s).clear()));
}
