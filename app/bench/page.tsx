'use client';
// Benchmark page (not linked from the app): runs the extraction benchmark in a worker on
// WASM and prints the figures; bench/extract-browser.ts opens it in Chromium.
import { useEffect, useState } from 'react';
import { formatExtractionBenchmark } from '@/lib/bench/extraction';

export default function BenchPage() {
  const [output, setOutput] = useState('running…');
  useEffect(() => {
    const rounds = Number(new URLSearchParams(window.location.search).get('rounds') ?? 3);
    const worker = new Worker(new URL('../../workers/bench.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e) => {
      const d = e.data;
      setOutput(d.ok ? formatExtractionBenchmark(`Chromium, onnxruntime-web WASM (${d.threads} threads)`, d.result) : `error: ${d.message}`);
      worker.terminate();
    };
    worker.postMessage({ modelsUrl: '/models', model: 'all-MiniLM-L6-v2', corpusUrl: '/corpus/default.txt', rounds });
    return () => worker.terminate();
  }, []);
  return (
    <main className="page">
      <h1>QKViz extraction benchmark</h1>
      <pre data-testid="bench-output">{output}</pre>
    </main>
  );
}
