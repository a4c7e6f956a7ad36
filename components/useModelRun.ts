'use client';
// Drives the model worker from React: one run at a time, progress per stage, cancel that
// answers within a second (the worker is replaced if it does not), and a crashed worker
// reported as an error and replaced, never a silent blank.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { DeviceReport } from '@/lib/engine/runtime';
import type { DevicePreference, ErrorKind, ModelReply, RunResult, RunStage } from '@/lib/protocol/model';

/** How long a cancelled worker may take to confirm before it is terminated (cancel must land within a second). */
const CANCEL_GRACE_MS = 800;

export type RunState =
  | { status: 'idle' }
  | { status: 'running'; stage: RunStage; done: number; total: number; device?: DeviceReport }
  | { status: 'done'; result: RunResult }
  | { status: 'cancelled' }
  | { status: 'error'; kind: ErrorKind; message: string };

export function useModelRun() {
  const workerRef = useRef<Worker | null>(null);
  const runId = useRef(0);
  const cancelTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [state, setState] = useState<RunState>({ status: 'idle' });

  const spawn = useCallback((): Worker => {
    const worker = new Worker(new URL('../workers/model.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<ModelReply>) => {
      const reply = event.data;
      if (reply.id !== runId.current) return;
      switch (reply.type) {
        case 'progress':
          setState((s) => ({ status: 'running', stage: reply.stage, done: reply.done, total: reply.total, device: s.status === 'running' ? s.device : undefined }));
          break;
        case 'device':
          setState((s) => (s.status === 'running' ? { ...s, device: reply.device } : s));
          break;
        case 'result':
          setState({ status: 'done', result: reply.result });
          break;
        case 'cancelled':
          if (cancelTimer.current) clearTimeout(cancelTimer.current);
          setState({ status: 'cancelled' });
          break;
        case 'error':
          setState({ status: 'error', kind: reply.kind, message: reply.message });
          break;
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      workerRef.current?.terminate();
      workerRef.current = null;
      setState({ status: 'error', kind: 'internal', message: `The model worker crashed (${event.message || 'no message'}). Press Run to start again.` });
    };
    workerRef.current = worker;
    return worker;
  }, []);

  useEffect(
    () => () => {
      workerRef.current?.terminate();
      workerRef.current = null;
    },
    [],
  );

  const run = useCallback(
    (params: { modelsUrl: string; model: string; device: DevicePreference; sentences: string[] }) => {
      const worker = workerRef.current ?? spawn();
      const id = ++runId.current;
      setState({ status: 'running', stage: 'load', done: 0, total: 1 });
      worker.postMessage({ type: 'run', id, ...params });
    },
    [spawn],
  );

  const cancel = useCallback(() => {
    const worker = workerRef.current;
    if (!worker) return;
    const id = runId.current;
    worker.postMessage({ type: 'cancel', id });
    if (cancelTimer.current) clearTimeout(cancelTimer.current);
    cancelTimer.current = setTimeout(() => {
      // The worker is stuck inside a long step: drop it (this frees its memory too).
      if (runId.current !== id || workerRef.current !== worker) return;
      worker.terminate();
      workerRef.current = null;
      runId.current++;
      setState({ status: 'cancelled' });
    }, CANCEL_GRACE_MS);
  }, []);

  return { state, run, cancel };
}
