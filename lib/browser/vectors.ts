// A shown run's queries and keys, opened from where they are (lib/run/types VectorRef) in
// whichever context asks — the page, a projection or heads worker: a run in this browser's
// store, or a bundle file read in place (both as a RunReader, lib/store/vectors' RunVectors).
// Opened once per context and run.
import { openRunBundle } from '../run/bundleRun';
import type { VectorRef } from '../run/types';
import { RunReader } from '../store/runStore';
import { runStore } from './runCache';

const opened = new Map<string, Promise<RunReader>>();
const bundles = new WeakMap<Blob, Promise<RunReader>>();

/** A bundle file as the reader reads it: byte ranges of the Blob. */
export const blobSource = (file: Blob) => ({
  size: file.size,
  read: async (start: number, end: number) => new Uint8Array(await file.slice(start, end).arrayBuffer()),
  slice: (start: number, end: number) => file.slice(start, end),
});

export function openVectors(ref: VectorRef): Promise<RunReader> {
  if (ref.kind === 'store') {
    let p = opened.get(ref.id);
    if (!p) {
      // The page's own store: written here, not checked again on every read (bundles are).
      p = RunReader.open(runStore(), ref.id, { verify: false });
      p.catch(() => opened.delete(ref.id));
      opened.set(ref.id, p);
    }
    return p;
  }
  let p = bundles.get(ref.file);
  if (!p) {
    p = openRunBundle(blobSource(ref.file), Infinity).then((b) => {
      if (!b.vectors) throw new Error(`${ref.name} holds no queries and keys`);
      return b.vectors;
    });
    bundles.set(ref.file, p);
  }
  return p;
}
