// worker_threads entry for bench/projection.ts: projects the heads it is sent.
import { parentPort } from 'node:worker_threads';
import { projectHead, type ProjectionParams } from '../lib/projection/project';

parentPort!.on('message', (task: { index: number; joint: Float32Array; dim: number; params: ProjectionParams }) => {
  const r = projectHead(task.joint, task.dim, task.params);
  parentPort!.postMessage({ index: task.index, coords: r.coords, ms: r.ms }, [r.coords.buffer as ArrayBuffer]);
});
