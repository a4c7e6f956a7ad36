'use client';
// The sentence view's counterpart for an image run: the selected patch's image with its
// attention over the patches in the focused head — where a query patch looks, or (a key patch
// selected) who looks at it — as light over a dimmed picture, the selected patch outlined; the
// special tokens' shares beside it, which can be hidden with every row renormalised over the
// patches. Weighs what the links weigh (attention, or ‖α·f(x)‖).
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ImageLayout } from '@/lib/data/layout';

/** Pixels the picture is drawn at across, at most (it fits the panel's width). */
const SIDE = 300;

interface Props {
  picture: Uint8Array | null;
  layout: ImageLayout;
  /** The image's n×n weights in the focused head (rows = queries); null while read. */
  block: Float32Array | null;
  /** The selected token's position in its image, and whether it was picked as a query or a key. */
  position: number;
  kind: 'query' | 'key';
  tokens: string[];
  title: string;
  weightLabel: string;
}

/** Each patch's weight (from the selected query's row, or into the selected key's column), the specials' too; renormalised over the patches when they are hidden. */
export function patchWeights(
  block: Float32Array,
  n: number,
  specials: number,
  { position: i, kind }: Pick<Props, 'position' | 'kind'>,
  hideSpecials: boolean,
): { patches: Float64Array; specials: Float64Array } {
  const weightOf = (row: number, col: number) => {
    if (!hideSpecials) return block[row * n + col];
    let hidden = 0;
    for (let s = 0; s < specials; s++) hidden += block[row * n + s];
    return hidden < 1 ? block[row * n + col] / (1 - hidden) : 0;
  };
  const at = (j: number) => (kind === 'query' ? weightOf(i, j) : weightOf(j, i));
  return {
    patches: Float64Array.from({ length: n - specials }, (_, p) => at(specials + p)),
    specials: Float64Array.from({ length: specials }, (_, s) => (hideSpecials ? 0 : at(s))),
  };
}

export function ImageAttention({ picture, layout, block, position, kind, tokens, title, weightLabel }: Props) {
  const [hideSpecials, setHideSpecials] = useState(false);
  const canvas = useRef<HTMLCanvasElement>(null);
  const n = tokens.length;
  const weights = useMemo(
    () => (block ? patchWeights(block, n, layout.specials, { position, kind }, hideSpecials) : null),
    [block, n, layout.specials, position, kind, hideSpecials],
  );
  const { width, height, grid, patch } = layout;

  useEffect(() => {
    const c = canvas.current;
    if (!c || !picture) return;
    const context = c.getContext('2d')!;
    const image = new ImageData(width, height);
    for (let p = 0, q = 0; p < width * height * 3; p += 3, q += 4) {
      image.data[q] = picture[p];
      image.data[q + 1] = picture[p + 1];
      image.data[q + 2] = picture[p + 2];
      image.data[q + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    if (!weights) return;
    // Light on an absolute scale: a patch's share against an even share of the patches (√, so
    // small shares still show): even attention half-lit, four times an even share and more fully
    // lit. A row that gives nearly everything to [CLS] leaves the image dark; hiding [CLS] and
    // renormalising lights it.
    const even = 1 / weights.patches.length;
    weights.patches.forEach((w, p) => {
      const [r, col] = [Math.floor(p / grid[1]), p % grid[1]];
      const light = Math.min(1, Math.sqrt(w / (4 * even)));
      context.fillStyle = `rgba(17, 20, 26, ${(0.85 * (1 - light)).toFixed(3)})`;
      context.fillRect(col * patch, r * patch, patch, patch);
    });
    const own = position - layout.specials;
    if (own >= 0) {
      context.strokeStyle = kind === 'query' ? '#5FB96C' : '#E3378F';
      context.lineWidth = Math.max(1, patch / 8);
      context.strokeRect((own % grid[1]) * patch + 0.5, Math.floor(own / grid[1]) * patch + 0.5, patch - 1, patch - 1);
    }
  }, [picture, weights, width, height, grid, patch, position, kind, layout.specials]);

  const specialText = weights ? Array.from(weights.specials, (w, s) => `${tokens[s]} ${(100 * w).toFixed(1)}%`).join(' · ') : '';
  return (
    <figure className="sentence-view image-attention" aria-label="Image view">
      <figcaption>
        <span className="sentence-title">{title}</span>
        <span className="sentence-weight" data-testid="sentence-weight">
          {weightLabel}
          {kind === 'query' ? ' from the selected patch' : ' into the selected patch'}
        </span>
        {layout.specials > 0 && (
          <label className="inline">
            <input type="checkbox" checked={hideSpecials} onChange={(e) => setHideSpecials(e.target.checked)} /> Hide{' '}
            {tokens
              .slice(0, layout.specials)
              .filter((t, i, a) => a.indexOf(t) === i)
              .join('/')}{' '}
            and renormalise
          </label>
        )}
      </figcaption>
      <canvas
        ref={canvas}
        width={width}
        height={height}
        data-testid="image-attention"
        style={{ width: '100%', maxWidth: SIDE, aspectRatio: `${width} / ${height}`, imageRendering: 'pixelated' }}
        role="img"
        aria-label={`Attention over the ${grid[0] * grid[1]} patches of ${title}`}
      />
      {specialText && (
        <p className="line small muted" data-testid="image-specials">
          {specialText}
        </p>
      )}
    </figure>
  );
}
