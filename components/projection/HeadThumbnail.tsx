'use client';
// One head's layout as a small 2D picture (first two coordinates): queries green, keys
// pink, drawn straight into the canvas's pixels. A stand-in for the 3D matrix view.
import { useEffect, useRef } from 'react';

const QUERY = [0x5f, 0xb9, 0x6c];
const KEY = [0xe3, 0x37, 0x8f];
export const THUMB_SIZE = 80;

interface Props {
  coords: Float32Array | null;
  dims: number;
  label: string;
  progress?: number;
  selected: boolean;
  onSelect: () => void;
}

export function HeadThumbnail({ coords, dims, label, progress, selected, onSelect }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const image = ctx.createImageData(THUMB_SIZE, THUMB_SIZE);
    const px = image.data;
    for (let i = 0; i < px.length; i += 4) {
      px[i] = 0x17;
      px[i + 1] = 0x1a;
      px[i + 2] = 0x21;
      px[i + 3] = 255;
    }
    if (coords) {
      const n = coords.length / dims;
      const half = n / 2;
      const r = THUMB_SIZE / 2 - 2;
      // Queries and keys interleaved (q0, k0, q1, k1, …) so neither colour hides the other.
      for (let m = 0; m < n; m++) {
        const i = m % 2 === 0 ? m / 2 : half + (m - 1) / 2;
        const x = Math.round(THUMB_SIZE / 2 + coords[i * dims] * r);
        const y = Math.round(THUMB_SIZE / 2 - coords[i * dims + 1] * r);
        if (x < 0 || y < 0 || x >= THUMB_SIZE || y >= THUMB_SIZE) continue;
        const c = i < half ? QUERY : KEY;
        const o = (y * THUMB_SIZE + x) * 4;
        px[o] = c[0];
        px[o + 1] = c[1];
        px[o + 2] = c[2];
      }
    }
    ctx.putImageData(image, 0, 0);
  }, [coords, dims]);
  return (
    <figure className={selected ? 'thumb selected' : 'thumb'} aria-label={label} data-ready={coords ? 'yes' : 'no'}>
      <button type="button" className="thumb-button" aria-pressed={selected} aria-label={`Select ${label}`} onClick={onSelect}>
        <canvas ref={ref} width={THUMB_SIZE} height={THUMB_SIZE} />
      </button>
      <figcaption>
        {label}
        {!coords && progress !== undefined && <progress max={1} value={progress} aria-label={`${label} progress`} />}
      </figcaption>
    </figure>
  );
}
