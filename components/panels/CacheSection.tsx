'use client';
// What the browser keeps between visits, and a control to drop it.
import { formatBytes } from '@/lib/util/format';
import { clearAllCaches } from '../app/runs';
import { useApp } from '../state/appStore';

export function CacheSection() {
  const cache = useApp((s) => s.cache);
  return (
    <section className="panel-section cache-section" aria-label="Cache">
      <p className="line muted">
        <span data-testid="cache-usage">
          Cache: {cache.runs} run{cache.runs === 1 ? '' : 's'}
          {cache.runs > 0 && `, ${formatBytes(cache.bytes)}`}
        </span>{' '}
        <button type="button" className="link-button" onClick={() => void clearAllCaches()}>
          Clear cache
        </button>
      </p>
      {cache.message && <p className="line muted">{cache.message}</p>}
    </section>
  );
}
