'use client';
// The left sidebar: the model, the corpus, Run with its progress, and every control that
// changes the view; collapsible, so the canvas can take the whole width.
import { useMemo } from 'react';
import { searchImages, searchTokens } from '@/lib/views/tokens';
import { CacheSection } from '../panels/CacheSection';
import { CorpusSection } from '../panels/CorpusSection';
import { ModelSection } from '../panels/ModelSection';
import { RunSection } from '../panels/RunSection';
import { ViewSection } from '../panels/ViewSection';
import { useApp } from '../state/appStore';
import { useView } from '../state/viewStore';
import { tableOf } from '../views/useViewData';

function SearchCount() {
  const shown = useApp((s) => s.shown);
  const search = useView((s) => s.search);
  const results = useMemo(() => {
    if (!shown || !search.trim()) return null;
    const { data } = shown.result;
    const table = tableOf(shown.result);
    // An image run is searched by image name (every patch of a matching image).
    return (
      2 *
      (data.images
        ? searchImages(
            table,
            data.sentences.map((s) => s.text),
            search,
          )
        : searchTokens(table, search)
      ).length
    );
  }, [shown, search]);
  return <ViewSection results={results} valueNorms={shown ? shown.result.data.hasValueNorms === true : null} images={!!shown?.result.data.images} />;
}

export function Sidebar() {
  return (
    <aside className="sidebar" aria-label="Controls">
      <ModelSection />
      <CorpusSection />
      <RunSection />
      <SearchCount />
      <CacheSection />
    </aside>
  );
}
