// The run store on disk, for the CLI and the benchmarks: a directory a run under one root
// (lib/store/files.ts's interfaces over node:fs file descriptors).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { QuotaError, type StoreFolder, type StoreRoot } from '../store/files';

export class FileStore implements StoreRoot {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  async folder(name: string, options: { create?: boolean } = {}): Promise<StoreFolder | null> {
    const dir = join(this.root, name);
    if (!existsSync(dir)) {
      if (!options.create) return null;
      mkdirSync(dir, { recursive: true });
    }
    return {
      name,
      async create(file) {
        const fd = openSync(join(dir, file), 'w+');
        return {
          read(start, end) {
            const out = new Uint8Array(Math.max(0, end - start));
            for (let done = 0; done < out.length;) {
              const n = readSync(fd, out, done, out.length - done, start + done);
              if (n === 0) break;
              done += n;
            }
            return out;
          },
          write(bytes, at) {
            try {
              for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
            } catch (e) {
              if ((e as { code?: string }).code === 'ENOSPC') throw new QuotaError(`the disk is full (${dir})`);
              throw e;
            }
          },
          close() {
            fsyncSync(fd);
            closeSync(fd);
          },
        };
      },
      async open(file) {
        const path = join(dir, file);
        if (!existsSync(path)) return null;
        const size = statSync(path).size;
        return {
          size,
          async read(start, end) {
            // Opened for each read: a reader holds no descriptor between reads.
            const fd = openSync(path, 'r');
            try {
              const out = new Uint8Array(Math.max(0, Math.min(end, size) - start));
              for (let done = 0; done < out.length;) {
                const n = readSync(fd, out, done, out.length - done, start + done);
                if (n === 0) break;
                done += n;
              }
              return out;
            } finally {
              closeSync(fd);
            }
          },
        };
      },
      async files() {
        return readdirSync(dir);
      },
    };
  }

  async folders(): Promise<string[]> {
    return readdirSync(this.root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  }

  async remove(name: string): Promise<void> {
    rmSync(join(this.root, name), { recursive: true, force: true });
  }

  async estimate(): Promise<{ quota: number; usage: number }> {
    const fs = statfsSync(this.root);
    const free = fs.bavail * fs.bsize;
    return { quota: free, usage: 0 };
  }
}
