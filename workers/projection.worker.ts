// Projection worker: projects whole heads with lib's projectHeadVectors and streams epoch progress.
import { PROGRESS_EVERY_EPOCHS, type ProjectionApi } from '../lib/protocol/projection';
import { projectHeadVectors } from '../lib/projection/project';
import { type ScopeLike, serve } from '../lib/worker/rpc';

serve<ProjectionApi>(self as unknown as ScopeLike, {
  project: ({ q, k, norm, dim, params }, context) => {
    const result = projectHeadVectors(q, k, dim, norm, params, (epoch, epochs) => {
      if (epoch % PROGRESS_EVERY_EPOCHS === 0) context.progress({ epoch, epochs });
      return true;
    });
    context.transfer(result.coords.buffer as ArrayBuffer);
    return { coords: result.coords, ms: result.ms, explainedVariance: result.explainedVariance, kernel: result.kernel };
  },
});
