// The page's file store: the Origin Private File System, one folder a run under "runs/" (and
// one a stored model under "models/").
// Writing happens in the model worker through sync access handles (fast writes at offsets,
// only in dedicated workers); elsewhere a writable stream does. Reading, anywhere (the page,
// the projection and heads workers), takes byte ranges of the file's snapshot, so a view reads
// one head, or one sentence of one head, without loading the rest.
import { QuotaError, type ReadableStoreFile, type StoreFolder, type StoreRoot, type WritableStoreFile } from '../store/files';

/** The top folder of the page's runs in the Origin Private File System. */
const RUNS_FOLDER = 'runs';

const isQuota = (e: unknown) => (e as { name?: string })?.name === 'QuotaExceededError';

/** FileSystemSyncAccessHandle, as the worker scope types it (this file is typed against the DOM). */
interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  read(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

async function writer(handle: FileSystemFileHandle): Promise<WritableStoreFile> {
  const syncable = handle as unknown as { createSyncAccessHandle?: () => Promise<SyncAccessHandle> };
  // Sync access handles exist in dedicated workers only.
  if (syncable.createSyncAccessHandle && typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined') {
    try {
      const sync = await syncable.createSyncAccessHandle();
      sync.truncate(0);
      return {
        read(start, end) {
          const out = new Uint8Array(Math.max(0, end - start));
          const n = sync.read(out, { at: start });
          return n === out.length ? out : out.slice(0, n);
        },
        write(bytes, at) {
          try {
            const n = sync.write(bytes, { at });
            if (n !== bytes.length) throw new QuotaError(`the browser's storage took ${n} of ${bytes.length} bytes (is it full?)`);
          } catch (e) {
            if (isQuota(e)) throw new QuotaError(`the browser's storage for this site is full (${(e as Error).message})`);
            throw e;
          }
        },
        close() {
          sync.flush();
          sync.close();
        },
      };
    } catch (e) {
      if (e instanceof QuotaError) throw e;
      // Another context holds the file, or the handle is not offered: a stream instead.
    }
  }
  const stream = await handle.createWritable({ keepExistingData: false });
  return {
    async write(bytes, at) {
      try {
        await stream.write({ type: 'write', position: at, data: bytes as Uint8Array<ArrayBuffer> });
      } catch (e) {
        if (isQuota(e)) throw new QuotaError(`the browser's storage for this site is full (${(e as Error).message})`);
        throw e;
      }
    },
    async close() {
      await stream.close();
    },
  };
}

async function reader(handle: FileSystemFileHandle): Promise<ReadableStoreFile> {
  const file = await handle.getFile();
  return { size: file.size, read: async (start, end) => new Uint8Array(await file.slice(start, end).arrayBuffer()), blob: async () => file };
}

function folderOf(dir: FileSystemDirectoryHandle): StoreFolder {
  return {
    name: dir.name,
    async create(name) {
      try {
        return await writer(await dir.getFileHandle(name, { create: true }));
      } catch (e) {
        if (isQuota(e)) throw new QuotaError(`the browser's storage for this site is full (${(e as Error).message})`);
        throw e;
      }
    },
    async open(name) {
      try {
        return await reader(await dir.getFileHandle(name));
      } catch (e) {
        if ((e as { name?: string }).name === 'NotFoundError') return null;
        throw e;
      }
    },
    async files() {
      const names: string[] = [];
      for await (const [name, entry] of dir.entries()) if (entry.kind === 'file') names.push(name);
      return names;
    },
  };
}

export class OpfsStore implements StoreRoot {
  private top: Promise<FileSystemDirectoryHandle> | null = null;

  /** `top`: the folder of the Origin Private File System this store keeps its folders in. */
  constructor(private readonly topName = RUNS_FOLDER) {}

  private runs(): Promise<FileSystemDirectoryHandle> {
    this.top ??= navigator.storage.getDirectory().then((root) => root.getDirectoryHandle(this.topName, { create: true }));
    return this.top;
  }

  async folder(name: string, options: { create?: boolean } = {}): Promise<StoreFolder | null> {
    try {
      return folderOf(await (await this.runs()).getDirectoryHandle(name, { create: options.create ?? false }));
    } catch (e) {
      if ((e as { name?: string }).name === 'NotFoundError') return null;
      throw e;
    }
  }

  async folders(): Promise<string[]> {
    const names: string[] = [];
    for await (const [name, entry] of (await this.runs()).entries()) if (entry.kind === 'directory') names.push(name);
    return names;
  }

  async remove(name: string): Promise<void> {
    try {
      await (await this.runs()).removeEntry(name, { recursive: true });
    } catch (e) {
      if ((e as { name?: string }).name !== 'NotFoundError') throw e;
    }
  }

  async estimate(): Promise<{ quota: number; usage: number } | null> {
    const e = await navigator.storage?.estimate?.();
    return e?.quota ? { quota: e.quota, usage: e.usage ?? 0 } : null;
  }
}

/** Whether this browser has the Origin Private File System (and may use it here). */
export const opfsAvailable = (): boolean => typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
