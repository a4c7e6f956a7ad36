// Projection worker: projects whole heads with lib's projectHead and streams epoch progress.
import { PROGRESS_EVERY_EPOCHS, type ProjectTask, type ProjectionReply } from '../lib/protocol/projection';
import { projectHead } from '../lib/projection/project';

const post = (reply: ProjectionReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(reply, transfer);

self.onmessage = (event: MessageEvent<ProjectTask>) => {
  const task = event.data;
  try {
    const result = projectHead(task.joint, task.dim, task.params, (epoch, epochs) => {
      if (epoch % PROGRESS_EVERY_EPOCHS === 0) post({ type: 'progress', id: task.id, epoch, epochs });
      return true;
    });
    post({ type: 'done', id: task.id, coords: result.coords, ms: result.ms, explainedVariance: result.explainedVariance }, [result.coords.buffer]);
  } catch (e) {
    post({ type: 'error', id: task.id, message: (e as Error).message });
  }
};
