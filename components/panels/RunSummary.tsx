'use client';
// What the result on screen is: its size, where it came from (this run, or the browser's
// cache and when), the device, timings, and the check that the extracted queries and keys
// reproduce the model's own attention.
import { useApp } from '../state/appStore';
import { DeviceBadge } from './DeviceBadge';

const formatInt = (n: number) => n.toLocaleString('en-US');
/**
 * The attention check reads ✓ up to this: float32 rounding of the model's own softmax against
 * one recomputed in float64 from float32 Q/K (the text models measure ≤ 1e-6; a trained ViT's
 * 257 keys with large logits, 1.5e-5).
 */
const ATTENTION_OK = 5e-5;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function ago(ms: number): string {
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 90) return 'just now';
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `on ${new Date(ms).toLocaleDateString('en-GB')}`;
}

export function RunSummary() {
  const shown = useApp((s) => s.shown);
  const scoring = useApp((s) => (s.scoring && s.scoring.id === s.shown?.id ? s.scoring : null));
  const scoringError = useApp((s) => s.scoringError);
  if (!shown) return null;
  const { data, timings, manifest } = shown.result;
  const heads = data.layers * data.heads;
  return (
    <section className="panel-section" aria-label="Run summary" data-result-id={shown.id}>
      <h2>Result</h2>
      <p className="lead" data-testid="summary-size">
        {formatInt(data.tokenCount)} tokens · {formatInt(data.sentences.length)} {data.images ? 'image' : 'sentence'}
        {data.sentences.length === 1 ? '' : 's'} · {heads} heads ({data.layers} layers × {data.heads})
      </p>
      <p className="line muted" data-testid="result-source">
        {shown.label} ·{' '}
        {shown.source === 'bundle'
          ? `from bundle ${shown.bundle?.name ?? ''} (made ${shown.savedAt ? ago(shown.savedAt) : 'earlier'} by ${shown.bundle?.createdBy ?? 'QKViz'}; no model ran here)`
          : shown.source === 'cache'
            ? `from cache (computed ${shown.savedAt ? ago(shown.savedAt) : 'earlier'}; the model did not run)`
            : 'computed just now'}
      </p>
      <dl className="facts">
        <dt>Device</dt>
        <dd>
          <DeviceBadge device={shown.result.device} />
        </dd>
        <dt>Attention check</dt>
        <dd
          data-testid="attention-error"
          title="max |softmax(q·k/√d) recomputed from the extracted Q/K − the model's own attention|, over every layer, head and row of the sentences the model was asked for its attention"
        >
          {Number.isNaN(shown.result.attentionError) ? (
            'not checked: no sentence was short enough to ask the model for its attention'
          ) : (
            <>
              max error {shown.result.attentionError.toExponential(2)}
              {shown.result.attentionError <= ATTENTION_OK ? ' ✓' : ' — larger than expected'} on {data.attentionSample.sentences.length} sampled{' '}
              {data.images ? 'image' : 'sentence'}
              {data.attentionSample.sentences.length === 1 ? '' : 's'}
              {data.rotary === 'pre' && ' (from the rotated vectors kept beside the unrotated ones)'}
            </>
          )}
        </dd>
        <dt>Timings</dt>
        <dd data-testid="timings">
          extract {seconds(timings.extractMs)} ({formatInt(Math.round(data.tokenCount / (timings.extractMs / 1000)))} tokens/s
          {timings.modelMs !== undefined && timings.storeMs !== undefined && `; model ${seconds(timings.modelMs)}, store and sums ${seconds(timings.storeMs)}`})
          · normalize {seconds(timings.analyzeMs)}
          {timings.analysisThreads && timings.analysisThreads > 1 ? ` (${timings.analysisThreads} threads)` : ''}
          {timings.warmupMs > 0 && ` · warm-up ${seconds(timings.warmupMs)}`}
        </dd>
        <dt>Figures</dt>
        <dd data-testid="scoring">
          {shown.result.analysis.scored !== false
            ? 'every head, every mode'
            : scoringError
              ? scoringError
              : scoring
                ? `scoring heads ${scoring.done}/${scoring.total}…`
                : 'not scored yet'}
        </dd>
        <dt>Model</dt>
        <dd>
          {manifest.name}, {heads} heads × {data.headDim} dims
        </dd>
      </dl>
      {shown.result.notices.length > 0 && (
        <ul className="notices" data-testid="notices">
          {shown.result.notices.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
