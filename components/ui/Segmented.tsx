// A segmented toggle: one choice of a few, drawn as evenly sized joined buttons. Underneath
// it is a radio group, so it is labelled, keyboard-operable and found by role like one.

interface Props<T extends string | number> {
  /** The group's accessible name (also shown when `showLabel`). */
  label: string;
  name: string;
  value: T;
  options: { value: T; label: string; title?: string }[];
  onChange: (value: T) => void;
  disabled?: boolean;
}

export function Segmented<T extends string | number>({ label, name, value, options, onChange, disabled }: Props<T>) {
  return (
    <div className="segmented" role="radiogroup" aria-label={label}>
      {options.map((o) => (
        <label key={String(o.value)} className={o.value === value ? 'on' : undefined} title={o.title}>
          <input type="radio" name={name} value={String(o.value)} checked={o.value === value} disabled={disabled} onChange={() => onChange(o.value)} />
          <span>{o.label}</span>
        </label>
      ))}
    </div>
  );
}
