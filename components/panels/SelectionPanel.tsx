'use client';
// The selected token of the focused head: what it is, its sentence's attention links on the
// canvas (how many per query, from what weight, weighed by attention or by the norm of what
// it moves) and the sentence view.
import type { RunResult } from '@/lib/run/types';
import { LINK_WEIGHT_LABELS, type LinkWeight } from '@/lib/views/links';
import { MAX_LINK_K } from '../canvas/sceneObjects';
import { Segmented } from '../ui/Segmented';
import { NO_VALUE_NORMS } from './ViewSection';
import { setView, useView } from '../state/viewStore';
import { SentenceView } from '../views/SentenceView';
import { picturesOf, useSelection } from '../views/useViewData';
import { ImageAttention } from '../views/ImageAttention';
import { useAsync } from '../views/useAsync';

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function SelectionPanel({ result }: { result: RunResult }) {
  const { data } = result;
  const { table, point, sentence, links, block, focus, weight } = useSelection(result);
  const linkK = useView((s) => s.linkK);
  const pictures = useAsync(() => (data.images ? picturesOf(result) : null), [result]);
  const threshold = useView((s) => s.threshold);
  if (!focus) return null;
  // A decoder's first token is its attention sink (GPT-2 gives it most of every row); an
  // encoder's [CLS]/[SEP] play that part.
  const special = data.causal ? (p: number) => p === 0 : (p: number) => sentence !== null && table.special[data.sentenceStarts[sentence] + p] === 1;
  return (
    <section className="panel-section" aria-label="Selection">
      <h2>Selection</h2>
      <div className="row">
        <label className="row-label" htmlFor="link-k">
          Links / query
        </label>
        <input
          id="link-k"
          type="number"
          className="narrow"
          min={1}
          max={MAX_LINK_K}
          value={linkK}
          onChange={(e) => setView({ linkK: clamp(Math.round(Number(e.target.value)) || 1, 1, MAX_LINK_K) })}
        />
        <label className="row-label short" htmlFor="link-threshold">
          ≥ weight
        </label>
        <input
          id="link-threshold"
          type="number"
          className="narrow"
          min={0}
          max={1}
          step={0.01}
          value={threshold}
          onChange={(e) => setView({ threshold: clamp(Number(e.target.value) || 0, 0, 1) })}
        />
      </div>
      <div className="row">
        <span className="row-label">Weigh by</span>
        <Segmented<LinkWeight>
          label="Weigh links by"
          name="link-weight"
          value={weight}
          disabled={!data.hasValueNorms}
          options={[
            { value: 'attention', label: 'Attention', title: 'Links and the sentence view show attention weights α_ij' },
            {
              value: 'value',
              label: '‖α·f(x)‖',
              title: data.hasValueNorms
                ? 'What the head moves: α_ij·‖f(x_j)‖, with f(x) = x·W_V·W_O of the head (Kobayashi et al. 2020), as a share of the row'
                : NO_VALUE_NORMS,
            },
          ]}
          onChange={(linkWeight) => setView({ linkWeight })}
        />
      </div>
      {point && sentence !== null ? (
        <div className="selection" data-testid="selection">
          <p className="line">
            <span data-testid="selection-token">
              Selected <strong>{table.text[point.row]}</strong> ({point.kind}), sentence {sentence + 1}, position {table.position[point.row] + 1} of{' '}
              {table.sentenceLength[point.row]}
            </span>
            {links ? ` · ${links.weight.length} links by ${LINK_WEIGHT_LABELS[weight]}` : result.vectors ? ' · links…' : ''}{' '}
            <button type="button" className="link-button" onClick={() => setView({ selected: null })}>
              Clear selection
            </button>
          </p>
          {result.vectors && data.images && (
            <ImageAttention
              picture={
                pictures
                  ? pictures.subarray(sentence * data.images.height * data.images.width * 3, (sentence + 1) * data.images.height * data.images.width * 3)
                  : null
              }
              layout={data.images}
              block={block}
              position={table.position[point.row]}
              kind={point.kind}
              tokens={data.sentences[sentence].tokens}
              title={data.sentences[sentence].text}
              weightLabel={weight === 'value' ? 'light: α_ij·‖f(x_j)‖, share of the row' : 'light: attention α_ij'}
            />
          )}
          {result.vectors && !data.images && (
            <SentenceView
              tokens={data.sentences[sentence].tokens}
              special={special}
              hideLabel={data.causal ? 'Hide the first token and renormalise' : 'Hide [CLS]/[SEP] and renormalise'}
              block={block}
              weightLabel={weight === 'value' ? 'lines: α_ij·‖f(x_j)‖, share of the row' : 'lines: attention α_ij'}
              selected={{ position: table.position[point.row], kind: point.kind }}
              title={data.sentences[sentence].text}
            />
          )}
        </div>
      ) : (
        <p className="line muted">Click a point to highlight its sentence and draw its attention links.</p>
      )}
    </section>
  );
}
