'use client';
// How long a run of the chosen corpus should take on this device, before it runs: its token
// count and the throughput measured here (just now by the model worker, or stored from an
// earlier visit or run).
import { estimateRun } from '@/lib/run/progress';
import { useApp } from '../state/appStore';
import { storedThroughput } from '../state/prefs';

const DEVICE_NAMES: Record<string, string> = { webgpu: 'WebGPU', wasm: 'WASM', cpu: 'CPU' };

export interface Estimate {
  device: string;
  tokens: number;
  extractMs: number;
  analyzeMs: number | null;
  totalMs: number;
  /** Where the throughput comes from: a whole earlier run here, or the sample measured before running. */
  measured: 'run' | 'sample';
}

export function useEstimate(): Estimate | null {
  const manifest = useApp((s) => s.manifest);
  // Stored rates live in localStorage; this number changes when they do.
  useApp((s) => s.ratesVersion);
  const count = useApp((s) => s.count);
  const prepared = useApp((s) => s.prepared);
  const preference = useApp((s) => s.device);
  const lastDevice = useApp((s) => s.shown?.result.device.device ?? null);
  if (!manifest || count.status !== 'done') return null;
  const tokens = count.facts.tokens;
  const fresh = prepared && prepared.preference === preference && prepared.model === manifest.name ? prepared : null;
  const device = fresh?.device.device ?? (preference === 'wasm' ? 'wasm' : lastDevice);
  if (!device) return null;
  const stored = storedThroughput(manifest.name, device);
  const extract = stored?.extract ?? fresh?.tokensPerSecond ?? stored?.calibrated;
  if (!extract) return null;
  const e = estimateRun(count.facts, { extract, analyze: stored?.analyzePairs });
  return {
    device: DEVICE_NAMES[device] ?? device,
    tokens,
    extractMs: e.extractMs,
    analyzeMs: e.analyzeMs,
    totalMs: e.extractMs + (e.analyzeMs ?? 0),
    measured: stored?.extract ? 'run' : 'sample',
  };
}
