// Choosing the corpus: the draft (default, pasted or uploaded text) parsed into sentences and
// hashed at once, and counted with the model's tokenizer in the corpus worker once typing pauses,
// which gives the corpus card its tokens, memory estimate and refusal before any run.
import { corpusFacts } from '@/lib/run/plan';
import { CorpusError, corpusFormatOf, parseCorpus } from '@/lib/corpus/parse';
import { corpusHash } from '@/lib/run/cacheKey';
import { type CorpusDraft, appStore } from '../state/appStore';
import { WorkerRestartedError } from '@/lib/worker/rpc';
import { MODELS_URL, corpusClient } from './workers';
import { modelRefOf } from '@/lib/model/store';
import { runStore } from '@/lib/browser/runCache';
import type { VectorDtype } from '@/lib/store/runStore';
import { storeVectorDtype } from '../state/prefs';
import { countImages } from './images';

/** Typing pauses this long before a changed corpus is counted. */
const COUNT_DEBOUNCE_MS = 250;

const set = appStore.setState;
const get = appStore.getState;

let countAbort: AbortController | null = null;
let countTimer: ReturnType<typeof setTimeout> | undefined;

export function setDraft(patch: Partial<CorpusDraft>): void {
  const draft = { ...get().draft, ...patch };
  // A vision model reads the image corpus (components/app/images.ts); the text draft waits.
  if (get().manifest?.image) {
    set({ draft });
    return;
  }
  const text = draft.source === 'default' ? get().defaultText : draft.source === 'paste' ? draft.pasted : (draft.upload?.text ?? null);
  let corpus = null;
  let problem: string | null = null;
  if (draft.source === 'upload' && draft.uploadError) problem = draft.uploadError;
  else if (text !== null) {
    try {
      const given = draft.source === 'upload' ? draft.upload?.sentences : undefined;
      const parsed = given
        ? { sentences: given, blankLines: 0, rejected: [] }
        : parseCorpus(text, draft.source === 'upload' && draft.upload ? corpusFormatOf(draft.upload.name) : 'txt');
      const label = draft.source === 'default' ? 'Default corpus' : draft.source === 'paste' ? 'Pasted text' : (draft.upload?.name ?? '');
      corpus = { label, sentences: parsed.sentences, blankLines: parsed.blankLines, rejected: parsed.rejected.length, hash: null };
    } catch (e) {
      problem = e instanceof CorpusError ? `Cannot run on this corpus: ${e.message}.` : String(e);
    }
  }
  const previous = get().corpus;
  const same =
    !!previous &&
    !!corpus &&
    previous.label === corpus.label &&
    previous.sentences.length === corpus.sentences.length &&
    previous.sentences.every((s, i) => s === corpus!.sentences[i]);
  // The same sentences keep their corpus (its hash, possibly still being computed, and its count).
  set({ draft, corpus: same ? previous : corpus, corpusProblem: problem });
  if (same && get().count.status !== 'idle' && get().count.status !== 'error') return;
  if (corpus && !same) {
    const sentences = corpus.sentences;
    void corpusHash(sentences).then((hash) => {
      const now = get().corpus;
      if (now && now.sentences === sentences) set({ corpus: { ...now, hash } });
    });
  }
  scheduleCount();
}

export async function readUpload(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    setDraft({ upload: null, uploadError: `Cannot read ${file.name}: it is not UTF-8 text. Upload a .txt (one sentence per line) or .jsonl file.` });
    return;
  }
  if (text.includes('\u0000')) {
    setDraft({ upload: null, uploadError: `Cannot read ${file.name}: it is not text (it contains binary data). Upload a .txt or .jsonl file.` });
    return;
  }
  setDraft({ upload: { name: file.name, text }, uploadError: null });
}

/** Counts the corpus again (another model has another tokenizer). */
export function scheduleCount(): void {
  clearTimeout(countTimer);
  countAbort?.abort();
  const { corpus, manifest } = get();
  if (manifest?.image) {
    countImages();
    return;
  }
  if (!corpus || !manifest) {
    set({ count: { status: 'idle' } });
    return;
  }
  const total = corpus.sentences.length;
  set({ count: { status: 'counting', done: 0, total } });
  countTimer = setTimeout(async () => {
    const controller = new AbortController();
    countAbort = controller;
    try {
      const { lengths } = await corpusClient.call(
        'count',
        { modelsUrl: MODELS_URL, model: modelRefOf(manifest), sentences: corpus.sentences },
        // Never terminate the worker to stop a count: a newer count is about to use it.
        { signal: controller.signal, graceMs: 60_000, onProgress: (p) => !controller.signal.aborted && set({ count: { status: 'counting', ...p } }) },
      );
      // The run store's free space decides too (what a run of this corpus would write to disk).
      const space = await runStore()
        .estimate()
        .catch(() => null);
      if (!controller.signal.aborted) set({ count: { status: 'done', lengths, facts: corpusFacts(lengths, manifest, { space, dtype: get().vectorDtype }) } });
    } catch (e) {
      if (controller.signal.aborted) return;
      if (e instanceof WorkerRestartedError) scheduleCount();
      else set({ count: { status: 'error', message: `Counting the tokens failed: ${(e as Error).message}` } });
    }
  }, COUNT_DEBOUNCE_MS);
}

/** How the next run keeps its vectors on disk; the corpus card's figures follow at once. */
export function setVectorDtype(dtype: VectorDtype): void {
  set({ vectorDtype: dtype });
  storeVectorDtype(dtype);
  const { count, manifest } = get();
  if (count.status !== 'done' || !manifest) return;
  void runStore()
    .estimate()
    .catch(() => null)
    .then((space) => {
      const now = get().count;
      if (now === count) set({ count: { ...count, facts: corpusFacts(count.lengths, manifest, { space, dtype }) } });
    });
}
