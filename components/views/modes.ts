// Names of the normalization modes as every panel writes them.
import type { NormalizationMode } from '@/lib/analysis/normalize';

export const MODE_LABELS: Record<NormalizationMode, string> = { raw: 'Raw', paper: 'Paper (closed form)', optimized: 'Optimized' };
export const MODE_SHORT: Record<NormalizationMode, string> = { raw: 'Raw', paper: 'Paper', optimized: 'Optimized' };
