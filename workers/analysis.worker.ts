// Analysis helper: scores a share of a stored run's heads while the model worker scores its own
// (started by the model worker, so the heads never pass through the page).
import { scoreSlice } from '../lib/analysis/analyze';
import type { AnalysisApi } from '../lib/protocol/analysis';
import { type ScopeLike, serve } from '../lib/worker/rpc';
import { yieldToEvents } from '../lib/worker/yield';

serve<AnalysisApi>(self as unknown as ScopeLike, {
  ping: () => null,
  score: (slice, context) => scoreSlice(slice, { signal: context.signal, onHead: () => context.progress(null), afterHead: yieldToEvents }),
});
