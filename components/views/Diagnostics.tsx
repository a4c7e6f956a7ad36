'use client';
// The focused head, measured: every SPEC §3 figure raw and under both normalizations with
// the constants used, attention entropy and [CLS]/[SEP] share, the max error of attention
// recomputed from this head's Q/K, and the seed notebook's scatter of q·k against cosine
// distance with its least-squares line.
import { useMemo } from 'react';
import { NORMALIZATION_MODES, type NormalizationMode } from '@/lib/analysis/normalize';
import { leastSquares, seedScatter } from '@/lib/analysis/scatter';
import { openVectors } from '@/lib/browser/vectors';
import { useAsync } from './useAsync';
import type { RunResult } from '@/lib/run/types';
import { HEAD_FIGURES } from '@/lib/views/headFigures';
import { MODE_LABELS, MODE_SHORT } from './modes';

/** Points drawn in the scatter; the fit uses every token. */
const MAX_DRAWN = 3000;
const W = 420;
const H = 260;
const PAD = { left: 48, right: 12, top: 12, bottom: 36 };

const fmt = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3)) : '—');

export function Diagnostics(props: { result: RunResult; layer: number; head: number; mode: NormalizationMode }) {
  if (!props.result.vectors) {
    return (
      <section className="panel-section" aria-label="Diagnostics">
        <h2>Diagnostics</h2>
        <p className="line muted small">
          The attention check and the dot-product scatter need this run’s queries and keys, which this bundle view does not hold.
        </p>
      </section>
    );
  }
  return <HeadDiagnostics {...props} />;
}

function HeadDiagnostics({ result, layer, head, mode }: { result: RunResult; layer: number; head: number; mode: NormalizationMode }) {
  const { data, analysis } = result;
  const cell = layer * data.heads + head;
  const report = analysis.heads[cell];
  const error = report.check.maxAbsError;
  // The head's vectors, read from the run's store for the scatter.
  const vectors = useAsync(() => openVectors(result.vectors!).then((v) => v.head(cell)), [result, cell]);
  const scatter = useMemo(
    () =>
      vectors
        ? seedScatter(vectors.q, vectors.k, data.headDim, analysis.params[mode][cell])
        : { dot: new Float64Array(0), cosineDistance: new Float64Array(0) },
    [vectors, data, analysis, mode, cell],
  );
  const fit = useMemo(() => leastSquares(scatter.dot, scatter.cosineDistance), [scatter]);
  const perMode = HEAD_FIGURES.filter((f) => f.perMode);

  const n = scatter.dot.length;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, scatter.dot[i]);
    x1 = Math.max(x1, scatter.dot[i]);
    y0 = Math.min(y0, scatter.cosineDistance[i]);
    y1 = Math.max(y1, scatter.cosineDistance[i]);
  }
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - PAD.top - PAD.bottom);
  const stride = Math.max(1, Math.ceil(n / MAX_DRAWN));
  const dots: string[] = [];
  for (let i = 0; i < n; i += stride) dots.push(`M${sx(scatter.dot[i]).toFixed(1)} ${sy(scatter.cosineDistance[i]).toFixed(1)}h0`);

  return (
    <section className="panel-section diagnostics" aria-label="Diagnostics">
      <h2>
        Diagnostics · L{layer} H{head}
      </h2>
      <div className="diagnostics-grid">
        <div>
          <table className="figures">
            <thead>
              <tr>
                <th scope="col">Figure</th>
                {NORMALIZATION_MODES.map((m) => (
                  <th key={m} scope="col" className={m === mode ? 'current' : undefined} title={MODE_LABELS[m]}>
                    {MODE_SHORT[m]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {perMode.map((f) => {
                const values = NORMALIZATION_MODES.map((m) => report.metrics[m][f.key as 'seedCorrelation']);
                const best = Math.min(...values);
                return (
                  <tr key={f.key}>
                    <th scope="row" title={`${f.label}; ${f.reading}`}>
                      {f.short}
                    </th>
                    {values.map((v, i) => (
                      <td key={i} className={v === best ? 'best' : undefined}>
                        {fmt(v)}
                      </td>
                    ))}
                  </tr>
                );
              })}
              <tr>
                <th scope="row" title="Norm of the translation t added to every key">
                  ‖t‖ (keys)
                </th>
                {NORMALIZATION_MODES.map((m) => (
                  <td key={m}>{fmt(report.metrics[m].normalization.translationNorm)}</td>
                ))}
              </tr>
              <tr>
                <th scope="row" title="Scale c: queries × c, keys ÷ c">
                  scale c
                </th>
                {NORMALIZATION_MODES.map((m) => (
                  <td key={m}>{fmt(report.metrics[m].normalization.scale)}</td>
                ))}
              </tr>
            </tbody>
          </table>
          <p className="hint">Lower is better for every figure; the best mode per row is marked.</p>
          <dl className="facts">
            <dt>Attention entropy</dt>
            <dd>{fmt(report.attention.entropy)} nats</dd>
            <dt>[CLS]/[SEP] share</dt>
            <dd>{(100 * report.attention.specialShare).toFixed(1)}%</dd>
            <dt title="Share of Σ_j ‖α_ij·f(x_j)‖, the norms of what the head moves from each token (Kobayashi et al. 2020)">[CLS]/[SEP] share of ‖α·f(x)‖</dt>
            <dd data-testid="head-value-share">
              {Number.isFinite(report.attention.valueSpecialShare ?? NaN)
                ? `${(100 * report.attention.valueSpecialShare!).toFixed(1)}%`
                : 'no value norms in this run (a model converted before QKViz extracted them, or a bundle without them)'}
            </dd>
            <dt>Attention check</dt>
            <dd data-testid="head-attention-error">
              {Number.isNaN(error)
                ? 'not checked: no sentence of this corpus was short enough to ask the model for its attention'
                : `max |softmax(q·k/√d) − model| = ${error.toExponential(2)} (${data.attentionSample.sentences.length} sampled sentences)`}
            </dd>
          </dl>
        </div>
        <figure className="scatter">
          <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`q·k against cosine distance for ${n} tokens, ${MODE_LABELS[mode]} vectors`}>
            <defs>
              <clipPath id="scatter-clip">
                <rect x={PAD.left} y={PAD.top} width={W - PAD.left - PAD.right} height={H - PAD.top - PAD.bottom} />
              </clipPath>
            </defs>
            <rect x={PAD.left} y={PAD.top} width={W - PAD.left - PAD.right} height={H - PAD.top - PAD.bottom} className="plot-area" />
            <path d={dots.join('')} className="scatter-dots" />
            {Number.isFinite(fit.slope) && (
              <line
                x1={sx(x0)}
                y1={sy(fit.slope * x0 + fit.intercept)}
                x2={sx(x1)}
                y2={sy(fit.slope * x1 + fit.intercept)}
                className="fit-line"
                clipPath="url(#scatter-clip)"
              />
            )}
            <text x={W / 2} y={H - 6} textAnchor="middle" className="axis">
              q·k ({fmt(x0)} … {fmt(x1)})
            </text>
            <text x={12} y={H / 2} textAnchor="middle" className="axis" transform={`rotate(-90 12 ${H / 2})`}>
              cosine distance
            </text>
          </svg>
          <figcaption data-testid="scatter-fit">
            {MODE_LABELS[mode]} vectors: slope {fmt(fit.slope)}, intercept {fmt(fit.intercept)}, r = {fmt(fit.correlation)}, n = {n}
          </figcaption>
        </figure>
      </div>
    </section>
  );
}
