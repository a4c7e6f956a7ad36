// What the browser remembers between visits (localStorage): the device chosen and the
// throughput measured per model and device, so a reload neither forgets the choice nor
// has to measure again before it can say how long a run will take. Storage may be
// unavailable (private windows, quotas): every read then falls back, every write is skipped.
import type { DevicePreference } from '@/lib/run/types';
import { DEVICE_PREFERENCES } from '@/lib/engine/runtime';

const DEVICE_KEY = 'qkviz.device';
const DTYPE_KEY = 'qkviz.vector-dtype';
const THROUGHPUT_KEY = 'qkviz.throughput.v2';

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Not remembered; everything still works for this visit.
  }
}

export function storedDevice(): DevicePreference | null {
  const d = read(DEVICE_KEY);
  return DEVICE_PREFERENCES.includes(d as DevicePreference) ? (d as DevicePreference) : null;
}

export const storeDevice = (device: DevicePreference) => write(DEVICE_KEY, device);

/** How runs keep their vectors on disk (float32 unless the person chose float16). */
export const storedVectorDtype = (): 'float32' | 'float16' => (read(DTYPE_KEY) === 'float16' ? 'float16' : 'float32');
export const storeVectorDtype = (dtype: 'float32' | 'float16') => write(DTYPE_KEY, dtype);

/** Measured rates for one model on one device (the device that actually ran, not the preference). */
export interface Throughput {
  /** Extraction, tokens per second, over a whole run (the better guide). */
  extract?: number;
  /** Extraction, tokens per second, on the sample measured before any run. */
  calibrated?: number;
  /** Normalization and scoring, head-pairs (query–key pairs × heads) per second, from the last run. */
  analyzePairs?: number;
  measuredAt: number;
}

type ThroughputTable = Record<string, Throughput>;

const throughputKey = (model: string, device: string) => `${model}|${device}`;

function table(): ThroughputTable {
  try {
    return (JSON.parse(read(THROUGHPUT_KEY) ?? '{}') as ThroughputTable) ?? {};
  } catch {
    return {};
  }
}

export const storedThroughput = (model: string, device: string): Throughput | null => table()[throughputKey(model, device)] ?? null;

export function storeThroughput(model: string, device: string, update: Partial<Throughput>): void {
  const all = table();
  const key = throughputKey(model, device);
  if (Object.values(update).some((v) => typeof v === 'number' && !(Number.isFinite(v) && v > 0))) return;
  all[key] = { ...all[key], ...update, measuredAt: Date.now() };
  write(THROUGHPUT_KEY, JSON.stringify(all));
}
