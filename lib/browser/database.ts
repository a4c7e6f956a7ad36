// Small promise wrappers over IndexedDB, for any database (the page's result cache, the
// model store the model and corpus workers use): open lazily with its object stores, get,
// get all, a key range, and writes in one all-or-nothing transaction. Usable in workers.

export interface Database {
  get<T>(store: string, key: string): Promise<T | undefined>;
  getAll<T>(store: string): Promise<T[]>;
  /** Keys and values of every entry with a key in [lower, upper], in one transaction. */
  range(store: string, lower: string, upper: string): Promise<[IDBValidKey[], unknown[]]>;
  /** Puts and deletes in one transaction (all or nothing). */
  write(stores: string[], write: (tx: IDBTransaction) => void): Promise<void>;
}

const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

const done = (tx: IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('the database write was aborted'));
  });

/** A database opened on first use (and again after a failed open), with these object stores. */
export function database(name: string, version: number, stores: string[]): Database {
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(name, version);
      r.onupgradeneeded = () => {
        for (const s of stores) if (!r.result.objectStoreNames.contains(s)) r.result.createObjectStore(s);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error(`the ${name} database is open in an older tab`));
    });
  let db: Promise<IDBDatabase> | null = null;
  const handle = () => (db ??= open().catch((e) => ((db = null), Promise.reject(e))));
  return {
    get: async <T>(store: string, key: string) =>
      request((await handle()).transaction(store, 'readonly').objectStore(store).get(key)) as Promise<T | undefined>,
    getAll: async <T>(store: string) => request((await handle()).transaction(store, 'readonly').objectStore(store).getAll()) as Promise<T[]>,
    range: async (store, lower, upper) => {
      const objects = (await handle()).transaction(store, 'readonly').objectStore(store);
      const keys = IDBKeyRange.bound(lower, upper);
      return Promise.all([request(objects.getAllKeys(keys)), request(objects.getAll(keys))]);
    },
    write: async (names, write) => {
      const tx = (await handle()).transaction(names, 'readwrite');
      write(tx);
      await done(tx);
    },
  };
}
