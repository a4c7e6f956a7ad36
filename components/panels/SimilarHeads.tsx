'use client';
// "Heads like this one": in the head view, the heads nearest the one in view by the chosen
// similarity (attention or Q/K geometry, as the head map), each with its thumbnail and its
// distance; a click flies there and keeps the selected token.
import { useEffect } from 'react';
import { nearestHeads } from '@/lib/analysis/headSimilarity';
import { ensureDistances, setHeadMap, useHeadMap } from '../app/headMap';
import { useApp } from '../state/appStore';
import { flyTo, useView } from '../state/viewStore';
import { Segmented } from '../ui/Segmented';
import { HeadThumbnail, sampleNote } from '../views/HeadMap';

/** How many similar heads are listed. */
export const SIMILAR_HEADS = 6;

export function SimilarHeads({ layer, head }: { layer: number; head: number }) {
  const kind = useHeadMap((s) => s.kind);
  const distances = useHeadMap((s) => s.distances[s.kind] ?? null);
  const busy = useHeadMap((s) => s.busy);
  const error = useHeadMap((s) => s.error);
  const projection = useApp((s) => s.projection);
  const heads = useApp((s) => s.shown?.result.data.heads ?? 1);
  const mode = useView((s) => s.mode);
  const method = useView((s) => s.method);
  const dims = useView((s) => s.dims);
  useEffect(() => {
    void ensureDistances(kind);
  }, [kind, distances]);
  const cell = layer * heads + head;
  const nearest = distances ? nearestHeads(distances, cell, SIMILAR_HEADS) : [];
  return (
    <section className="panel-section" aria-label="Heads like this one" data-testid="similar-heads">
      <h2>Heads like this one</h2>
      <div className="row">
        <span className="row-label">By</span>
        <Segmented
          label="Similar heads by"
          name="similar-kind"
          value={kind}
          options={[
            { value: 'attention', label: 'Attention' },
            { value: 'geometry', label: 'Q/K geometry' },
          ]}
          onChange={(v) => setHeadMap({ kind: v })}
        />
      </div>
      {error && <p className="error small">{error}</p>}
      {!distances && !error && <p className="line muted small">{busy ?? 'Comparing the heads…'}</p>}
      {distances && projection && (
        <>
          <ul className="similar-heads">
            {nearest.map((n) => {
              const l = Math.floor(n.cell / heads);
              const h = n.cell % heads;
              return (
                <li key={n.cell}>
                  <button
                    type="button"
                    onClick={() => flyTo({ layer: l, head: h })}
                    aria-label={`Go to L${l} H${h}`}
                    title={`distance ${n.distance.toFixed(3)} (0 = alike)`}
                  >
                    <HeadThumbnail layouts={projection.layouts} view={{ mode, method, dims }} layer={l} head={h} />L{l} H{h} · {n.distance.toFixed(2)}
                  </button>
                </li>
              );
            })}
          </ul>
          <p className="line muted small">
            Distance 0 = alike, 1 = unlike. {sampleNote(distances)}{' '}
            <button type="button" className="link-button" onClick={() => setHeadMap({ open: true })}>
              Head map
            </button>
          </p>
        </>
      )}
    </section>
  );
}
