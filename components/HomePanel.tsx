'use client';
// First screen: which model and corpus a run will use, measured from the real files
// (manifest, corpus text, and the model's own tokenizer), and the Run button.
import { useEffect, useState } from 'react';
import { parseCorpus } from '@/lib/corpus/parse';
import { fetchManifest, fetchModelsIndex } from '@/lib/model/catalog';
import { type ModelManifest, describeSource } from '@/lib/model/manifest';
import { encodeSentence, loadTokenizer } from '@/lib/model/tokenizer';
import { configureOrtWasm } from '@/lib/runtime/ortAssets';

const MODELS_URL = '/models';
const DEFAULT_CORPUS_URL = '/corpus/default.txt';

interface CorpusSummary {
  sentences: string[];
  tokens: number | null;
  longest: number | null;
}

const formatInt = (n: number) => n.toLocaleString('en-US');

export function HomePanel() {
  const [manifest, setManifest] = useState<ModelManifest | null>(null);
  const [corpus, setCorpus] = useState<CorpusSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [runMessage, setRunMessage] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const index = await fetchModelsIndex(MODELS_URL);
      const requested = new URLSearchParams(window.location.search).get('model');
      if (requested !== null && !index.models.includes(requested)) {
        throw new Error(
          `Model "${requested}" has not been converted here (available: ${index.models.join(', ')}). ` +
            `Convert it with \`npm run setup:model -- --hub ${requested} --name ${requested}\` or --from-dir.`,
        );
      }
      const m = await fetchManifest(MODELS_URL, requested ?? index.default);
      if (cancelled) return;
      setManifest(m);
      const res = await fetch(DEFAULT_CORPUS_URL);
      if (!res.ok) throw new Error(`the default corpus (${DEFAULT_CORPUS_URL}) could not be loaded: HTTP ${res.status}`);
      const { sentences } = parseCorpus(await res.text());
      if (cancelled) return;
      setCorpus({ sentences, tokens: null, longest: null });
      await configureOrtWasm();
      const tokenizer = await loadTokenizer({ kind: 'local', modelsPath: `${MODELS_URL}/`, name: m.name });
      const lengths = sentences.map((s) => encodeSentence(tokenizer, s).length);
      if (cancelled) return;
      setCorpus({ sentences, tokens: lengths.reduce((a, b) => a + b, 0), longest: Math.max(...lengths) });
    })().catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <section className="cards">
        <article className="card" aria-label="Model">
          <h2>Model</h2>
          {manifest ? (
            <>
              <p className="big" data-testid="model-name">{manifest.name}</p>
              <dl className="facts">
                <dt>Architecture</dt>
                <dd data-testid="model-shape">
                  {manifest.modelType.toUpperCase()} · {manifest.layers} layers × {manifest.heads} heads ·
                  head size {manifest.headDim}
                </dd>
                <dt>Hidden / vocab</dt>
                <dd>
                  {manifest.hidden} / {formatInt(manifest.vocabSize)} tokens
                </dd>
                <dt>Max sentence</dt>
                <dd>{manifest.maxTokens} tokens</dd>
                <dt>Weights</dt>
                <dd>
                  {(manifest.onnx.bytes / 1e6).toFixed(1)} MB ONNX (opset {manifest.onnx.opset}), from {describeSource(manifest.source)}
                </dd>
              </dl>
            </>
          ) : (
            !error && <p className="status">Reading the model manifest…</p>
          )}
        </article>
        <article className="card" aria-label="Corpus">
          <h2>Corpus</h2>
          {corpus ? (
            <>
              <p className="big">Default corpus</p>
              <dl className="facts">
                <dt>Sentences</dt>
                <dd data-testid="corpus-sentences">{formatInt(corpus.sentences.length)}</dd>
                <dt>Tokens</dt>
                <dd data-testid="corpus-tokens">
                  {corpus.tokens === null ? 'counting with the model’s tokenizer…' : `${formatInt(corpus.tokens)} (with [CLS]/[SEP])`}
                </dd>
                <dt>Points per head</dt>
                <dd>{corpus.tokens === null ? '…' : `${formatInt(corpus.tokens * 2)} (a query and a key per token)`}</dd>
                <dt>Longest sentence</dt>
                <dd>{corpus.longest === null ? '…' : `${corpus.longest} tokens`}</dd>
              </dl>
              <ol className="preview">
                {corpus.sentences.slice(0, 8).map((s, i) => (
                  <li key={i}>{s}</li>
                ))}
              </ol>
            </>
          ) : (
            !error && <p className="status">Loading the default corpus…</p>
          )}
        </article>
      </section>
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={!manifest || !corpus}
          onClick={() =>
            setRunMessage(
              'The extraction engine is not wired into the page yet (it is the next milestone), so nothing has been computed and no results are shown.',
            )
          }
        >
          Run
        </button>
        {runMessage && (
          <span className="status" role="status">
            {runMessage}
          </span>
        )}
      </div>
    </>
  );
}
