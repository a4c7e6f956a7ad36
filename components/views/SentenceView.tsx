'use client';
// One sentence's attention in the focused head, BertViz style: queries on the left, keys on
// the right, a line per pair with opacity = weight (a decoder's only to keys up to the query).
// Hovering a token keeps only its lines; [CLS]/[SEP] (a decoder's first token) can be hidden
// with each row renormalised over the tokens left. Tokens are written
// as the tokenizer does (a WordPiece continuation keeps its "##"), as on the canvas.
import { useMemo, useState } from 'react';
import { sentenceAttention } from '@/lib/views/links';

/** Lines fainter than this are not drawn: invisible anyway, and a long sentence has n² of them. */
const MIN_DRAWN_WEIGHT = 0.01;
const ROW = 18;
const WIDTH = 330;
const TEXT_X = 118;

interface Props {
  tokens: string[];
  special: (position: number) => boolean;
  /** What hiding `special` is called: [CLS]/[SEP] for an encoder, the first token for a decoder. */
  hideLabel: string;
  /** The sentence's n×n attention in the focused head; null while it is read from the run's store. */
  block: Float32Array | null;
  /** Position of the selected token and whether it was picked as a query or a key. */
  selected: { position: number; kind: 'query' | 'key' } | null;
  title: string;
  /** What the lines' opacity is (attention, or the norm of what it moves): the view's legend. */
  weightLabel?: string;
}

export function SentenceView({ tokens, special, hideLabel, block, selected, title, weightLabel = 'lines: attention α_ij' }: Props) {
  const [hideSpecial, setHideSpecial] = useState(false);
  const [hover, setHover] = useState<{ side: 'query' | 'key'; index: number } | null>(null);
  const n = tokens.length;
  const { shown, weights } = useMemo(
    () => sentenceAttention(block ?? new Float32Array(n * n), n, hideSpecial ? special : () => false),
    [block, n, hideSpecial, special],
  );
  const m = shown.length;
  const lines = useMemo(() => {
    const out: { a: number; b: number; w: number }[] = [];
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) if (weights[a * m + b] >= MIN_DRAWN_WEIGHT) out.push({ a, b, w: weights[a * m + b] });
    return out;
  }, [weights, m]);
  const visible = hover ? lines.filter((l) => (hover.side === 'query' ? l.a === hover.index : l.b === hover.index)) : lines;
  const y = (i: number) => 28 + i * ROW;
  const isSelected = (side: 'query' | 'key', i: number) => selected?.kind === side && selected.position === shown[i];

  return (
    <figure className="sentence-view" aria-label="Sentence view">
      <figcaption>
        <span className="sentence-title">{title}</span>
        <span className="sentence-weight" data-testid="sentence-weight">
          {weightLabel}
        </span>
        <label className="inline">
          <input type="checkbox" checked={hideSpecial} onChange={(e) => setHideSpecial(e.target.checked)} /> {hideLabel}
        </label>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${y(m) + 4}`} width="100%" role="img" aria-label={`Attention between the ${m} tokens of the sentence`}>
        <text x={TEXT_X - 8} y={12} textAnchor="end" className="axis query">
          queries
        </text>
        <text x={WIDTH - TEXT_X + 8} y={12} className="axis key">
          keys
        </text>
        {visible.map(({ a, b, w }) => (
          <line key={`${a}-${b}`} x1={TEXT_X} y1={y(a) - 4} x2={WIDTH - TEXT_X} y2={y(b) - 4} stroke="#FFC300" strokeOpacity={w} strokeWidth={1.5} />
        ))}
        {shown.map((p, i) => (
          <g key={p}>
            <text
              x={TEXT_X - 6}
              y={y(i)}
              textAnchor="end"
              className={`token query${isSelected('query', i) ? ' selected' : ''}${hover?.side === 'query' && hover.index === i ? ' hovered' : ''}`}
              data-testid="sentence-query"
              onMouseEnter={() => setHover({ side: 'query', index: i })}
              onMouseLeave={() => setHover(null)}
            >
              {tokens[p]}
            </text>
            <text
              x={WIDTH - TEXT_X + 6}
              y={y(i)}
              className={`token key${isSelected('key', i) ? ' selected' : ''}${hover?.side === 'key' && hover.index === i ? ' hovered' : ''}`}
              data-testid="sentence-key"
              onMouseEnter={() => setHover({ side: 'key', index: i })}
              onMouseLeave={() => setHover(null)}
            >
              {tokens[p]}
            </text>
          </g>
        ))}
      </svg>
      <p className="hint">
        {block
          ? `${visible.length} line${visible.length === 1 ? '' : 's'} shown (weights ≥ ${MIN_DRAWN_WEIGHT}); hover a token to isolate its lines.`
          : 'Reading this sentence’s queries and keys from the run’s store…'}
      </p>
    </figure>
  );
}
