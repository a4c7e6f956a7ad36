// What a finished run measured: size, device, timings, and the check that the extracted
// queries and keys reproduce the model's own attention.
import type { RunResult } from '@/lib/protocol/model';
import { DeviceBadge } from './DeviceBadge';

const formatInt = (n: number) => n.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function RunSummary({ result }: { result: RunResult }) {
  const { data, timings, manifest } = result;
  const heads = data.layers * data.heads;
  return (
    <section className="card" aria-label="Run summary">
      <h2>Result</h2>
      <p className="big" data-testid="summary-size">
        {formatInt(data.tokenCount)} tokens · {formatInt(data.sentences.length)} sentences · {heads} heads ({data.layers} layers × {data.heads})
      </p>
      <dl className="facts">
        <dt>Device</dt>
        <dd>
          <DeviceBadge device={result.device} />
        </dd>
        <dt>Attention check</dt>
        <dd data-testid="attention-error">
          max |softmax(q·k/√d) − model attention| = {result.attentionError.toExponential(2)}
          {result.attentionError <= 1e-5 ? ' ✓' : ' — larger than expected'}
        </dd>
        <dt>Timings</dt>
        <dd data-testid="timings">
          load {seconds(timings.loadMs)} · tokenize {seconds(timings.tokenizeMs)} · extract {seconds(timings.extractMs)} (
          {formatInt(Math.round(data.tokenCount / (timings.extractMs / 1000)))} tokens/s) · normalize {seconds(timings.normalizeMs)}
        </dd>
        <dt>Model</dt>
        <dd>
          {manifest.name}, Q and K of {heads} heads × {data.headDim} dims
        </dd>
      </dl>
      {result.notices.length > 0 && (
        <ul className="notices" data-testid="notices">
          {result.notices.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
