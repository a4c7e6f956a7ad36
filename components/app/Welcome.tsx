'use client';
// The canvas before any result: what a run will show, and how long it will take on this
// device, from the corpus's token count and the throughput measured here.
import { formatDuration } from '@/lib/util/format';
import { useApp } from '../state/appStore';
import { Progress, progressText } from '../panels/RunSection';
import { runCorpus } from './runs';
import { useEstimate } from './estimate';

const formatInt = (n: number) => n.toLocaleString('en-US');

export function Welcome() {
  const manifest = useApp((s) => s.manifest);
  const loadError = useApp((s) => s.loadError);
  const corpus = useApp((s) => s.corpus);
  const count = useApp((s) => s.count);
  const preparing = useApp((s) => s.preparing);
  const run = useApp((s) => s.run);
  const estimate = useEstimate();
  if (loadError) {
    return (
      <div className="welcome">
        <p className="error" role="alert">
          {loadError}
        </p>
      </div>
    );
  }
  if (!manifest) return <div className="welcome muted">Loading…</div>;
  const heads = manifest.layers * manifest.heads;
  const tokens = count.status === 'done' ? count.facts.tokens : null;
  return (
    <div className="welcome" data-testid="welcome">
      <h2>Every query and key of every attention head</h2>
      <p>
        <strong>{manifest.name}</strong> reads {corpus ? `${formatInt(corpus.sentences.length)} sentences` : 'your corpus'}
        {tokens !== null && ` (${formatInt(tokens)} tokens)`} in this browser. QKViz then draws its {heads} heads ({manifest.layers} layers × {manifest.heads})
        as a matrix of query/key clouds{tokens !== null && `, ${formatInt(2 * tokens)} points each`}; click a head to fly into it and follow its attention.
      </p>
      <p data-testid="welcome-estimate">
        {estimate ? (
          <>
            About <strong>{formatDuration(estimate.totalMs)}</strong> on {estimate.device} here: extraction {formatDuration(estimate.extractMs)} at{' '}
            {formatInt(Math.round(estimate.tokens / (estimate.extractMs / 1000)))} tokens/s (
            {estimate.measured === 'run' ? 'measured on an earlier run here' : 'measured on a sample just now'})
            {estimate.analyzeMs !== null ? `, normalization ${formatDuration(estimate.analyzeMs)}` : ', then normalization'}. PCA of every head follows within
            seconds; UMAP streams in after, head by head.
          </>
        ) : preparing ? (
          `Measuring this device. ${progressText(preparing)}`
        ) : (
          'How long it takes depends on this device; it is measured when the model is ready.'
        )}
      </p>
      {run.status === 'running' ? (
        <Progress progress={run.progress} etaMs={run.etaMs} rate={run.rate} id="welcome-progress" />
      ) : (
        <button type="button" className="primary" disabled={!corpus} onClick={() => void runCorpus()}>
          Run now
        </button>
      )}
    </div>
  );
}
