'use client';
// Benchmark page (not linked from the app): runs the extraction benchmark in a worker on
// WASM and prints the figures; bench/extract-browser.ts opens it in Chromium.
import { useEffect, useState } from 'react';
import { formatExtractionBenchmark } from '@/lib/bench/extraction';
import type { BenchApi } from '@/lib/protocol/bench';
import { WorkerClient } from '@/lib/worker/rpc';

export default function BenchPage() {
  const [output, setOutput] = useState('running…');
  useEffect(() => {
    let live = true;
    const rounds = Number(new URLSearchParams(window.location.search).get('rounds') ?? 3);
    const client = new WorkerClient<BenchApi>(
      () => new Worker(new URL('../../workers/bench.worker.ts', import.meta.url), { type: 'module' }) as never,
      'benchmark',
    );
    client
      .call('extraction', { modelsUrl: '/models', model: 'all-MiniLM-L6-v2', corpusUrl: '/corpus/default.txt', rounds })
      .then(
        (d) => live && setOutput(formatExtractionBenchmark(`Chromium, onnxruntime-web WASM (${d.threads} threads)`, d.result)),
        (e: Error) => live && setOutput(`error: ${e.message}`),
      )
      .finally(() => client.terminate());
    return () => {
      live = false;
      client.terminate();
    };
  }, []);
  return (
    <main style={{ padding: 24 }}>
      <h1>QKViz extraction benchmark</h1>
      <pre data-testid="bench-output">{output}</pre>
    </main>
  );
}
