'use client';
// An image run's images as a strip of small pictures with their names: clicking one selects its
// [CLS] query, which highlights every patch of that image (and draws its links in a head).
import { useEffect, useRef } from 'react';
import type { RunResult } from '@/lib/run/types';
import { setView, useView } from '../state/viewStore';
import { useAsync } from './useAsync';
import { picturesOf, tableOf } from './useViewData';

/** Images shown at most (a long corpus is searched by name instead). */
const MAX_SHOWN = 48;
const SIDE = 56;

function Picture({ pixels, width, height }: { pixels: Uint8Array; width: number; height: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const image = new ImageData(width, height);
    for (let p = 0, q = 0; p < pixels.length; p += 3, q += 4) {
      image.data[q] = pixels[p];
      image.data[q + 1] = pixels[p + 1];
      image.data[q + 2] = pixels[p + 2];
      image.data[q + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }, [pixels, width, height]);
  return <canvas ref={canvas} width={width} height={height} style={{ width: SIDE, height: (SIDE * height) / width }} />;
}

export function ImageStrip({ result }: { result: RunResult }) {
  const { data } = result;
  const layout = data.images;
  const pictures = useAsync(() => (layout ? picturesOf(result) : null), [result]);
  const selected = useView((s) => s.selected);
  if (!layout || !pictures) return null;
  const table = tableOf(result);
  const N = data.tokenCount;
  const current = selected === null ? null : table.sentence[selected < N ? selected : selected - N];
  const size = layout.height * layout.width * 3;
  const shown = data.sentences.slice(0, MAX_SHOWN);
  return (
    <section className="panel-section" aria-label="Images">
      <h2>Images</h2>
      <div className="image-strip">
        {shown.map((s, i) => (
          <button
            key={i}
            type="button"
            className={`image-thumb${current === i ? ' on' : ''}`}
            title={`${s.text}: select it (its [CLS] query), highlighting every patch`}
            aria-pressed={current === i}
            onClick={() => setView({ selected: current === i ? null : data.sentenceStarts[i] })}
          >
            <Picture pixels={pictures.subarray(i * size, (i + 1) * size)} width={layout.width} height={layout.height} />
            <span>{s.text}</span>
          </button>
        ))}
      </div>
      {data.sentences.length > MAX_SHOWN && (
        <p className="line muted small">
          {MAX_SHOWN} of {data.sentences.length} images shown; search finds the others by name.
        </p>
      )}
    </section>
  );
}
