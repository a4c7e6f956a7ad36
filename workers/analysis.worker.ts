// Analysis helper: scores a share of the heads while the model worker scores its own
// (started by the model worker, so the heads never pass through the page).
import { analyzeSlice } from '../lib/analysis/analyze';
import type { AnalysisApi } from '../lib/protocol/analysis';
import { type ScopeLike, serve } from '../lib/worker/rpc';
import { yieldToEvents } from '../lib/worker/yield';

serve<AnalysisApi>(self as unknown as ScopeLike, {
  ping: () => null,
  analyze: async (slice, context) => {
    const heads = await analyzeSlice(slice, { signal: context.signal, onHead: () => context.progress(null), afterHead: yieldToEvents });
    return heads;
  },
});
