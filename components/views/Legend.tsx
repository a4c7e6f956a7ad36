// The colour legend for the current colour-by mode and palette.
import { type Legend as LegendSpec, type Rgb, cssColour } from '@/lib/views/colour';

export function Legend({ legend }: { legend: LegendSpec }) {
  if (legend.type === 'swatches') {
    return (
      <ul className="legend" aria-label="Legend">
        {legend.items.map((item) => (
          <li key={item.label}>
            <span className="swatch" style={{ background: cssColour(item.colour) }} />
            {item.label}
          </li>
        ))}
      </ul>
    );
  }
  const ramp = ([a, b]: [Rgb, Rgb]) => `linear-gradient(to right, ${cssColour(a)}, ${cssColour(b)})`;
  return (
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
  );
}
