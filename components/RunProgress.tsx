// The run pipeline as a person sees it: the four stages, the current one with a progress
// bar and counts, and the device in use once known.
import { RUN_STAGES } from '@/lib/protocol/model';
import { DeviceBadge } from './DeviceBadge';
import type { RunState } from './useModelRun';

const UNITS = { load: 'MB', tokenize: 'sentences', extract: 'tokens', normalize: 'heads' } as const;

function amount(stage: keyof typeof UNITS, n: number): string {
  return stage === 'load' ? (n / 1e6).toFixed(1) : n.toLocaleString('en-US');
}

export function RunProgress({ state }: { state: Extract<RunState, { status: 'running' }> }) {
  const current = RUN_STAGES.findIndex((s) => s.stage === state.stage);
  return (
    <div className="progress" aria-label="Run progress">
      <ol className="stages">
        {RUN_STAGES.map((s, i) => (
          <li key={s.stage} className={i < current ? 'done' : i === current ? 'current' : ''} aria-current={i === current ? 'step' : undefined}>
            {s.label}
          </li>
        ))}
      </ol>
      <progress max={state.total} value={state.done} aria-label={`${RUN_STAGES[current].label} progress`} />
      <span className="status" data-testid="progress-text">
        {RUN_STAGES[current].label}: {amount(state.stage, state.done)} / {amount(state.stage, state.total)} {UNITS[state.stage]}
      </span>
      {state.device && <DeviceBadge device={state.device} />}
    </div>
  );
}
