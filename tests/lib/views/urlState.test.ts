// Shared links: what is written reads back the same, other parameters survive, and junk
// in a hand-edited link is dropped rather than trusted.
import { describe, expect, it } from 'vitest';
import { type ViewState, readViewState, sameCorpus, writeViewState } from '../../../lib/views/urlState';

describe('view state in the URL', () => {
  it('round-trips every field and keeps unrelated parameters', () => {
    const state: ViewState = {
      corpus: 'ab12cd34ef56ab78',
      head: { layer: 2, head: 11 },
      mode: 'paper',
      method: 'umap',
      dims: 2,
      colour: 'frequency',
      palette: 'colourblind',
      overlay: 'entropy',
      compare: 'projection',
      point: 417,
      camera: [1.5, -2.25, 3.125, 0.5, 0, -0.75],
    };
    const params = writeViewState(new URLSearchParams('model=all-MiniLM-L6-v2&device=wasm&head=L0H0'), state);
    expect(params.get('model')).toBe('all-MiniLM-L6-v2');
    expect(params.get('device')).toBe('wasm');
    expect(params.getAll('head')).toEqual(['L2H11']);
    expect(readViewState(new URLSearchParams(params.toString()))).toEqual(state);
  });

  it('drops what it does not recognise', () => {
    const s = readViewState(new URLSearchParams('head=L2&mode=best&method=tsne&dims=4&colour=red&overlay=x&compare=yes&point=-1&camera=1,2,3&corpus=<script>'));
    expect(s).toEqual({});
  });

  it('matches a corpus by its hash prefix', () => {
    expect(sameCorpus('ab12cd34', 'ab12cd34ef56')).toBe(true);
    expect(sameCorpus('ab12cd35', 'ab12cd34ef56')).toBe(false);
    expect(sameCorpus(undefined, 'ab12')).toBe(true);
  });
});
