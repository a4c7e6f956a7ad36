'use client';
// Chooses the corpus — the default one, pasted text or an uploaded .txt/.jsonl file — and says
// what it holds before anything runs: sentences, tokens counted with the model's tokenizer (in
// a worker, so a large paste never freezes the page), the memory a run needs and, where the
// tab could not hold it, the refusal with its numbers.
import { formatBytes, formatDuration } from '@/lib/util/format';
import { modelId } from '@/lib/run/cacheKey';
import { readUpload, setDraft, setVectorDtype } from '../app/corpus';
import { loadDefaultImages, loadImageFiles } from '../app/images';
import { showCachedRun } from '../app/runs';
import { isRunOf } from '../../lib/browser/runCache';
import { useEstimate } from '../app/estimate';
import { type CorpusSource, useApp } from '../state/appStore';
import { Segmented } from '../ui/Segmented';

const formatInt = (n: number) => n.toLocaleString('en-US');
const SOURCES: { value: CorpusSource; label: string; title: string }[] = [
  { value: 'default', label: 'Default', title: 'The default corpus (375 sentences written for QKViz)' },
  { value: 'paste', label: 'Paste', title: 'Paste text, one sentence per line' },
  { value: 'upload', label: 'Upload', title: 'A .txt file (one sentence per line) or .jsonl (a "text" field per line)' },
];

export function CorpusSection() {
  const dtype = useApp((s) => s.vectorDtype);
  const draft = useApp((s) => s.draft);
  const corpus = useApp((s) => s.corpus);
  const problem = useApp((s) => s.corpusProblem);
  const count = useApp((s) => s.count);
  const maxTokens = useApp((s) => s.manifest?.maxTokens ?? null);
  const estimate = useEstimate();
  const facts = count.status === 'done' ? count.facts : null;
  const model = useApp((s) => (s.manifest ? modelId(s.manifest.name, s.manifest.onnx.sha256) : null));
  const shownHash = useApp((s) => s.shown?.hash ?? null);
  const cached = useApp((s) => (model && corpus?.hash ? (s.cache.index.find((r) => isRunOf(r, model) && r.corpusHash === corpus.hash) ?? null) : null));
  const vision = useApp((s) => s.manifest?.image ?? null);
  const images = useApp((s) => s.imageStatus);

  return (
    <section className="panel-section" aria-label="Corpus">
      <h2>{vision ? 'Images' : 'Corpus'}</h2>
      {vision ? (
        <div className="image-corpus">
          <p className="line small muted">
            This model reads {vision.size[1]}×{vision.size[0]} images as {vision.grid[0]}×{vision.grid[1]} patches of {vision.patch} pixels
            {vision.specials.length ? ` after ${vision.specials.length} special token(s)` : ''}.
          </p>
          <div className="row">
            <button type="button" className="small-button" onClick={() => void loadDefaultImages()} disabled={images.loading}>
              Default images
            </button>
            <label className="small-button file-button">
              Images…
              <input
                type="file"
                aria-label="Image files"
                multiple
                accept="image/png,image/jpeg,image/webp"
                onChange={(e) =>
                  e.target.files?.length &&
                  void loadImageFiles([...e.target.files], e.target.files.length === 1 ? e.target.files[0].name : `${e.target.files.length} images`)
                }
              />
            </label>
            <label className="small-button file-button">
              Folder…
              <input
                type="file"
                aria-label="Image folder"
                multiple
                {...({ webkitdirectory: '' } as Record<string, string>)}
                onChange={(e) => {
                  const files = [...(e.target.files ?? [])];
                  const folder = ((files[0] as File & { webkitRelativePath?: string })?.webkitRelativePath ?? '').split('/')[0] || 'folder';
                  if (files.length) void loadImageFiles(files, folder);
                }}
              />
            </label>
          </div>
          {images.loading && <p className="line muted small">Decoding images…</p>}
          {images.note && <p className="line muted small">{images.note}</p>}
          {images.error && (
            <p className="error" role="alert">
              {images.error}
            </p>
          )}
        </div>
      ) : (
        <Segmented label="Corpus source" name="corpus-source" value={draft.source} options={SOURCES} onChange={(source) => setDraft({ source })} />
      )}
      {!vision && draft.source === 'paste' && (
        <textarea
          aria-label="Corpus text"
          placeholder="One sentence per line"
          rows={3}
          value={draft.pasted}
          onChange={(e) => setDraft({ pasted: e.target.value })}
        />
      )}
      {!vision && draft.source === 'upload' && (
        <input
          type="file"
          aria-label="Corpus file"
          accept=".txt,.jsonl,text/plain"
          onChange={(e) => e.target.files?.[0] && void readUpload(e.target.files[0])}
        />
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {corpus && (
        <div className="corpus-facts">
          <p className="line">
            <span data-testid="corpus-sentences">{formatInt(corpus.sentences.length)}</span> {vision ? 'images' : 'sentences'} ·{' '}
            <span
              data-testid="corpus-tokens"
              data-counted={facts ? 'yes' : 'no'}
              title={vision ? 'patches and special tokens' : 'special tokens ([CLS], [SEP]) included'}
            >
              {facts
                ? `${formatInt(facts.tokens)} tokens`
                : count.status === 'counting'
                  ? `counting tokens… ${count.total > 500 ? `${Math.round((100 * count.done) / count.total)}%` : ''}`
                  : count.status === 'error'
                    ? 'tokens not counted'
                    : 'tokens…'}
            </span>
          </p>
          {facts && (
            <p className="line muted small" data-testid="corpus-estimate">
              longest <span data-testid="corpus-longest">{formatInt(facts.longest)} tokens</span> · {formatInt(2 * facts.tokens)} points/head
              {!facts.refusal && ` · ≈ ${formatBytes(facts.memory.bytes)} in the tab`}
              {!facts.refusal && estimate && ` · run ≈ ${formatDuration(estimate.totalMs)} on ${estimate.device}`}
              {' · '}
              <span data-testid="corpus-disk" title="The run's queries and keys are kept in this browser's storage (its run store), a head read at a time">
                {formatBytes(facts.disk)} on disk as{' '}
              </span>
              <select
                aria-label="Vectors on disk"
                className="inline-select"
                value={dtype}
                onChange={(e) => setVectorDtype(e.target.value as 'float32' | 'float16')}
                title="float16: half the disk, about three significant digits"
              >
                <option value="float32">float32</option>
                <option value="float16">float16</option>
              </select>
            </p>
          )}
          {(corpus.blankLines > 0 || corpus.rejected > 0) && (
            <p className="line muted">
              skipped{' '}
              <span data-testid="corpus-skipped">
                {[corpus.blankLines && `${corpus.blankLines} blank line(s)`, corpus.rejected && `${corpus.rejected} unusable .jsonl line(s)`]
                  .filter(Boolean)
                  .join(', ')}
              </span>
            </p>
          )}
        </div>
      )}
      {cached && cached.corpusHash !== shownHash && (
        <p className="line small" data-testid="corpus-cached">
          Run here before:{' '}
          <button type="button" className="link-button" onClick={() => void showCachedRun(cached)}>
            show it from the cache
          </button>{' '}
          <span className="muted">(no model run)</span>
        </p>
      )}
      {count.status === 'error' && <p className="warning">{count.message}</p>}
      {facts && facts.overLimit > 0 && (
        <p className="warning" role="note" data-testid="corpus-over-limit">
          {facts.overLimit} sentence(s) exceed the model’s {maxTokens} tokens; each will be split into parts of at most {maxTokens} tokens and read separately.
        </p>
      )}
      {facts?.refusal && (
        <p className="error" role="alert" data-testid="corpus-refusal">
          {facts.refusal}
        </p>
      )}
    </section>
  );
}
