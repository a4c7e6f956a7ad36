// JSON for what QKViz writes beside its arrays (a bundle's header, a stored run's record):
// typed arrays become plain arrays, and non-finite numbers (a figure of a head with no valid
// pairs) are written {"$number": "NaN" | "Infinity" | "-Infinity"} and restored on reading.

export const jsonReplacer = (_key: string, value: unknown): unknown => {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
};

export const jsonReviver = (_key: string, value: unknown): unknown =>
  value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { $number?: unknown }).$number === 'string'
    ? Number((value as { $number: string }).$number)
    : value;
