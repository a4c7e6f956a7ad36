// Started by the widget (widget/build.mjs) instead of the corpus worker: counting a corpus's
// tokens needs the model's tokenizer, which the notebook widget does not carry.
import type { CorpusApi } from '../lib/protocol/corpus';
import { type ScopeLike, serve } from '../lib/worker/rpc';

serve<CorpusApi>(self as unknown as ScopeLike, {
  count: () => {
    throw new Error('the notebook widget counts no corpus: it shows a bundle with no model');
  },
});
