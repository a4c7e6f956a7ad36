// A labelled menu of the normalization modes, shared by the panels that offer one.
import { NORMALIZATION_MODES, type NormalizationMode } from '@/lib/analysis/normalize';

export const MODE_LABELS: Record<NormalizationMode, string> = { raw: 'Raw', paper: 'Paper (closed form)', optimized: 'Optimized' };

export function ModeSelect({ label, value, onChange }: { label: string; value: NormalizationMode; onChange: (mode: NormalizationMode) => void }) {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => onChange(e.target.value as NormalizationMode)}>
        {NORMALIZATION_MODES.map((m) => (
          <option key={m} value={m}>
            {MODE_LABELS[m]}
          </option>
        ))}
      </select>
    </label>
  );
}
