// The canvas's legend: what the point colours mean for the colour-by mode and palette, what a
// "##" label is, and, when the matrix cells are coloured by a figure, that figure's scale.
import { type Legend as LegendSpec, type Rgb, cssColour } from '@/lib/views/colour';
import { type HeadFigure, VIRIDIS_CSS, figureSpec } from '@/lib/views/headFigures';

const fmt = (v: number) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));

/** `tokens`: the head view's label note, for text or image tokens (null in the matrix). */
export function Legend({
  legend,
  overlay,
  tokens,
}: {
  legend: LegendSpec;
  overlay: { figure: HeadFigure; min: number; max: number } | null;
  tokens: 'text' | 'images' | null;
}) {
  const ramp = ([a, b]: [Rgb, Rgb]) => `linear-gradient(to right, ${cssColour(a)}, ${cssColour(b)})`;
  const spec = overlay ? figureSpec(overlay.figure) : null;
  return (
    <div className="legend-box">
      {legend.type === 'swatches' ? (
        <ul className="legend" aria-label="Legend">
          {legend.items.map((item) => (
            <li key={item.label}>
              <span className="swatch" style={{ background: cssColour(item.colour) }} />
              {item.label}
            </li>
          ))}
        </ul>
      ) : (
        <div className="legend" aria-label="Legend">
          <div className="legend-title">{legend.title}</div>
          {(['query', 'key'] as const).map((kind) => (
            <div key={kind} className="ramp-row">
              <span className="ramp-kind">{kind}</span>
              <span className="ramp" style={{ background: ramp(legend[kind]) }} />
            </div>
          ))}
          <div className="ramp-ends">
            <span>{legend.low}</span>
            <span>{legend.high}</span>
          </div>
        </div>
      )}
      {tokens === 'text' && <p className="legend-note">Labels are tokens as the tokenizer writes them: “##ing” continues the word before it.</p>}
      {tokens === 'images' && <p className="legend-note">Labels are patches by row and column (r3c7), after the special tokens ([CLS], [DIST], [REG]).</p>}
      {overlay && spec && (
        <div className="legend" aria-label="Cell colour legend">
          <div className="legend-title">
            Cells: {spec.label}
            {spec.better ? ` (${spec.better} is better)` : ''}
          </div>
          <span className="ramp ramp-bar" style={{ background: VIRIDIS_CSS }} />
          <div className="ramp-ends flush">
            <span>{fmt(overlay.min)}</span>
            <span>{fmt(overlay.max)}</span>
          </div>
        </div>
      )}
    </div>
  );
}
