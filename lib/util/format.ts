// Numbers as the page and the CLI write them: bytes, durations and counts, in one style.

/** "812 KB", "90 MB", "1.84 GB" (binary units, as the browser's storage figures). */
export const formatBytes = (b: number): string =>
  b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(2)} GB` : b >= 1024 ** 2 ? `${(b / 1024 ** 2).toFixed(0)} MB` : `${(b / 1024).toFixed(0)} KB`;

/** "4 s", "1 min 20 s". */
export function formatDuration(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}

/** "23,153". */
export const formatCount = (n: number): string => n.toLocaleString('en-US');
