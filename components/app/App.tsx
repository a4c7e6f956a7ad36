'use client';
// QKViz as a full-window app: the canvas takes the window, between a collapsible sidebar of
// controls and a details panel, with the heads table in a drawer under the canvas.
import { useEffect } from 'react';
import { startApp } from './controller';
import { Explorer } from './Explorer';
import { Sidebar } from './Sidebar';
import { TopBar } from './TopBar';
import { useGlobalKeys } from './useGlobalKeys';
import { openBundleFile } from './bundles';
import { readUpload, setDraft } from './corpus';

/** A file dropped anywhere on the window: a .txt/.jsonl becomes the corpus, anything else opens as a bundle. */
function useBundleDrop(): void {
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      e.preventDefault();
      if (/\.(txt|jsonl)$/i.test(file.name)) {
        setDraft({ source: 'upload' });
        void readUpload(file);
      } else void openBundleFile(file);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);
}

export function App() {
  useEffect(() => void startApp(), []);
  useBundleDrop();
  useGlobalKeys();
  return <Explorer bar={<TopBar />} controls={<Sidebar />} />;
}
