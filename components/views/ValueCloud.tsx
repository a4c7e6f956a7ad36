'use client';
// The focused head's value cloud (lib/views/valueCloud): every token's value vector by PCA in
// 2D, coloured by the norm of what the head would move from it, ‖f(x)‖; the selected
// sentence's tokens drawn over it with their text, the selected token ringed.
import { useMemo } from 'react';
import { openVectors } from '@/lib/browser/vectors';
import type { RunResult } from '@/lib/run/types';
import { VIRIDIS_CSS, viridis } from '@/lib/views/headFigures';
import { valueCloud } from '@/lib/views/valueCloud';
import { useView } from '../state/viewStore';
import { useAsync } from './useAsync';
import { tableOf } from './useViewData';

/** Points drawn (a stride over the corpus); the selected sentence's are always drawn. */
const MAX_DRAWN = 3000;
const W = 420;
const H = 240;
const PAD = 10;
/** Colour buckets: one path each keeps thousands of dots to a few DOM nodes. */
const BUCKETS = 12;

export function ValueCloud({ result, layer, head }: { result: RunResult; layer: number; head: number }) {
  const { data } = result;
  if (!result.vectors || !data.hasValueNorms) {
    return (
      <section className="panel-section" aria-label="Value cloud">
        <h2>Value cloud</h2>
        <p className="line muted small">
          {result.vectors
            ? 'This run has no value vectors: its model was converted before QKViz extracted them, or it came from a bundle without them. Run it again.'
            : 'The value cloud needs this run’s vectors, which this bundle view does not hold.'}
        </p>
      </section>
    );
  }
  return <Cloud result={result} layer={layer} head={head} />;
}

function Cloud({ result, layer, head }: { result: RunResult; layer: number; head: number }) {
  const { data } = result;
  const cell = layer * data.heads + head;
  const table = tableOf(result);
  const selected = useView((s) => s.selected);
  const N = data.tokenCount;
  const read = useAsync(
    () => openVectors(result.vectors!).then(async (v) => ({ values: await v.values(cell), norms: await v.valueNorms(cell) })),
    [result, cell],
  );
  const cloud = useMemo(() => (read?.values && read.norms ? valueCloud(read.values, read.norms, data.headDim) : null), [read, data.headDim]);
  const row = selected === null ? null : selected < N ? selected : selected - N;
  const sentence = row === null ? null : table.sentence[row];

  const drawn = useMemo(() => {
    if (!cloud) return null;
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < N; i++) {
      x0 = Math.min(x0, cloud.coords[2 * i]);
      x1 = Math.max(x1, cloud.coords[2 * i]);
      y0 = Math.min(y0, cloud.coords[2 * i + 1]);
      y1 = Math.max(y1, cloud.coords[2 * i + 1]);
    }
    const sx = (i: number) => PAD + ((cloud.coords[2 * i] - x0) / (x1 - x0 || 1)) * (W - 2 * PAD);
    const sy = (i: number) => H - PAD - ((cloud.coords[2 * i + 1] - y0) / (y1 - y0 || 1)) * (H - 2 * PAD);
    const paths = Array.from({ length: BUCKETS }, () => [] as string[]);
    const stride = Math.max(1, Math.ceil(N / MAX_DRAWN));
    for (let i = 0; i < N; i += stride) paths[Math.min(BUCKETS - 1, Math.floor(cloud.shade[i] * BUCKETS))].push(`M${sx(i).toFixed(1)} ${sy(i).toFixed(1)}h0`);
    return { sx, sy, paths };
  }, [cloud, N]);

  const highlighted =
    sentence === null
      ? []
      : Array.from({ length: data.sentenceStarts[sentence + 1] - data.sentenceStarts[sentence] }, (_, p) => data.sentenceStarts[sentence] + p);
  return (
    <section className="panel-section" aria-label="Value cloud">
      <h2>
        Value cloud · L{layer} H{head}
      </h2>
      {!cloud || !drawn ? (
        <p className="line muted small">Reading the head’s values…</p>
      ) : (
        <figure className="scatter value-cloud">
          <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`The values of ${N} tokens in L${layer} H${head}, by PCA, coloured by ‖f(x)‖`}>
            <rect className="plot-area" x={0.5} y={0.5} width={W - 1} height={H - 1} />
            {drawn.paths.map((d, b) =>
              d.length ? (
                <path
                  key={b}
                  d={d.join('')}
                  stroke={`rgb(${viridis((b + 0.5) / BUCKETS).join(', ')})`}
                  strokeWidth={3}
                  strokeLinecap="round"
                  opacity={sentence === null ? 0.8 : 0.35}
                />
              ) : null,
            )}
            {highlighted.map((r) => (
              <g key={r} data-testid="value-cloud-token">
                <circle
                  cx={drawn.sx(r)}
                  cy={drawn.sy(r)}
                  r={r === row ? 5 : 3.5}
                  fill={`rgb(${viridis(cloud.shade[r]).join(', ')})`}
                  stroke={r === row ? '#FFC300' : '#fff'}
                  strokeWidth={r === row ? 2 : 0.8}
                />
                <text x={drawn.sx(r) + 6} y={drawn.sy(r) + 3} className="axis">
                  {table.text[r]}
                </text>
              </g>
            ))}
          </svg>
          <figcaption>
            <span data-testid="value-cloud-caption">
              PCA of the values v (head size {data.headDim}): {(100 * cloud.explained[0]).toFixed(0)}% + {(100 * cloud.explained[1]).toFixed(0)}% of their
              variance.
            </span>{' '}
            Colour: ‖f(x)‖ = ‖v·W_O‖, {cloud.min.toFixed(2)} <span className="ramp" style={{ background: VIRIDIS_CSS }} aria-hidden /> {cloud.max.toFixed(2)}.{' '}
            {sentence === null ? 'Select a point to place its sentence here.' : ''}
          </figcaption>
        </figure>
      )}
    </section>
  );
}
