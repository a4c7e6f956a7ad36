// The browser's IndexedDB database of cached results: layouts per head ('projections'), whole
// runs ('runs') and a small index of the runs ('runIndex', read without loading any run).
// Every failure (private browsing, quota, a blocked upgrade) only means no cache.
import { database } from './database';

export const STORES = { projections: 'projections', runs: 'runs', runIndex: 'runIndex' } as const;

const cache = database('qkviz', 2, Object.values(STORES));

export const idbGet = <T>(store: string, key: string) => cache.get<T>(store, key);
export const idbGetAll = <T>(store: string) => cache.getAll<T>(store);
export const idbRange = (store: string, lower: string, upper: string) => cache.range(store, lower, upper);
export const idbWrite = (stores: string[], write: (tx: IDBTransaction) => void) => cache.write(stores, write);

export async function idbClear(): Promise<void> {
  await idbWrite(Object.values(STORES), (tx) => Object.values(STORES).forEach((s) => tx.objectStore(s).clear()));
}
