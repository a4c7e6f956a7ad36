'use client';
// A value the views compute asynchronously (read from the run's store): null until it
// arrives, and while a newer one (for newer inputs) is on its way; a stale one is dropped.
import { useEffect, useState } from 'react';

export function useAsync<T>(make: () => Promise<T> | null, deps: unknown[]): T | null {
  const [state, setState] = useState<{ deps: unknown[]; value: T } | null>(null);
  useEffect(() => {
    let live = true;
    const p = make();
    if (p) p.then((value) => live && setState({ deps, value })).catch(() => {});
    return () => {
      live = false;
    };
  }, deps);
  return state && state.deps.length === deps.length && state.deps.every((d, i) => d === deps[i]) ? state.value : null;
}
