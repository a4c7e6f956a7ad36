// Where a run store keeps its files, as the least a store needs of a file system: named
// folders of named files, written at offsets and read by byte ranges. The page's is the
// Origin Private File System (lib/browser/opfs.ts), the CLI's a directory on disk
// (lib/node/fileStore.ts); tests and small runs use the one in memory here.

/** A file being written: bytes at any offset (a sync access handle in a worker, a file descriptor in Node). */
export interface WritableStoreFile {
  write(bytes: Uint8Array, at: number): void | Promise<void>;
  /** Reads back what was written, through the same handle (fast where reading a closed file is not: a sync access handle). */
  read?(start: number, end: number): Uint8Array | Promise<Uint8Array>;
  /** Makes what was written durable and releases the file. */
  close(): void | Promise<void>;
}

/** A file read by byte ranges. */
export interface ReadableStoreFile {
  readonly size: number;
  read(start: number, end: number): Promise<Uint8Array>;
  /** The file itself where the platform has one (a browser File or Blob), to hand on without reading it. */
  blob?(): Promise<unknown>;
}

/** One run's folder. */
export interface StoreFolder {
  readonly name: string;
  /** A new (or emptied) file. */
  create(file: string): Promise<WritableStoreFile>;
  /** A file to read, or null when there is none. */
  open(file: string): Promise<ReadableStoreFile | null>;
  files(): Promise<string[]>;
}

/** Every run's folder. */
export interface StoreRoot {
  folder(name: string, options?: { create?: boolean }): Promise<StoreFolder | null>;
  folders(): Promise<string[]>;
  remove(name: string): Promise<void>;
  /** Bytes this origin may store and already does, when the platform says (navigator.storage.estimate). */
  estimate(): Promise<{ quota: number; usage: number } | null>;
}

/** A store in memory: the tests', and a run's when no file system is at hand. */
export class MemoryStore implements StoreRoot {
  private readonly data = new Map<string, Map<string, { bytes: Uint8Array; size: number }>>();

  constructor(private readonly quota = Infinity) {}

  async folder(name: string, options: { create?: boolean } = {}): Promise<StoreFolder | null> {
    let files = this.data.get(name);
    if (!files) {
      if (!options.create) return null;
      this.data.set(name, (files = new Map()));
    }
    const folder = files;
    const used = () => this.used();
    const quota = this.quota;
    return {
      name,
      async create(file) {
        const entry = { bytes: new Uint8Array(0), size: 0 };
        folder.set(file, entry);
        return {
          write(bytes, at) {
            const end = at + bytes.length;
            if (end > entry.size && used() + end - entry.size > quota) throw new QuotaError('the memory store is full');
            if (end > entry.bytes.length) {
              const grown = new Uint8Array(Math.max(end, 2 * entry.bytes.length));
              grown.set(entry.bytes.subarray(0, entry.size));
              entry.bytes = grown;
            }
            entry.bytes.set(bytes, at);
            entry.size = Math.max(entry.size, end);
          },
          read(start, end) {
            return entry.bytes.slice(start, Math.min(end, entry.size));
          },
          close() {
            entry.bytes = entry.bytes.slice(0, entry.size);
          },
        };
      },
      async open(file) {
        const entry = folder.get(file);
        if (!entry) return null;
        return { size: entry.size, read: async (start, end) => entry.bytes.slice(start, Math.min(end, entry.size)) };
      },
      async files() {
        return [...folder.keys()];
      },
    };
  }

  async folders(): Promise<string[]> {
    return [...this.data.keys()];
  }

  async remove(name: string): Promise<void> {
    this.data.delete(name);
  }

  async estimate(): Promise<{ quota: number; usage: number }> {
    return { quota: this.quota, usage: this.used() };
  }

  private used(): number {
    let n = 0;
    for (const folder of this.data.values()) for (const f of folder.values()) n += f.size;
    return n;
  }
}

/** The store refused a write: the disk or the browser's quota is full. */
export class QuotaError extends Error {}
