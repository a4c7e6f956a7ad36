'use client';
// Run, Cancel and the device, and the run as it goes: the stage named for what it does, its
// count, the throughput and time left; a warning with a one-click switch when WebGPU runs
// slower than WASM measured here; and errors in words. The result on screen stays until a
// run has succeeded.
import { formatDuration } from '@/lib/util/format';
import { type DevicePreference, RUN_STAGES, type RunProgress } from '@/lib/run/types';
import { DEVICE_PREFERENCES } from '@/lib/engine/runtime';
import { STAGE_UNITS, stageLabel } from '../app/stages';
import { cancelRun, runCorpus, setDevice, setRotary, switchToWasmAndRerun } from '../app/runs';
import { useApp } from '../state/appStore';
import { Segmented } from '../ui/Segmented';
import { DeviceBadge } from './DeviceBadge';

const DEVICE_LABELS: Record<DevicePreference, { label: string; title: string }> = {
  auto: { label: 'Auto', title: 'WebGPU on a hardware GPU, else WASM (never a software WebGPU adapter)' },
  webgpu: { label: 'WebGPU', title: 'WebGPU, even on a software adapter' },
  wasm: { label: 'WASM', title: 'The CPU, multi-threaded WebAssembly' },
};

const amount = (p: RunProgress, n: number) => (p.stage === 'download' ? (n / 1e6).toFixed(1) : n.toLocaleString('en-US'));

export function progressText(p: RunProgress): string {
  const label = stageLabel(p.stage, p.device?.device);
  const unit = STAGE_UNITS[p.stage];
  return unit ? `${label}: ${amount(p, p.done)} / ${amount(p, p.total)} ${unit}` : `${label}…`;
}

/** A run's progress: bar, stage and count, throughput and time left. `id` prefixes its test ids (two may show at once). */
export function Progress({ progress, etaMs, rate, id = 'progress' }: { progress: RunProgress; etaMs: number | null; rate: number | null; id?: string }) {
  const step = RUN_STAGES.indexOf(progress.stage) + 1;
  const unit = STAGE_UNITS[progress.stage];
  return (
    <div className="progress" aria-label="Run progress">
      <progress
        max={unit ? progress.total : undefined}
        value={unit ? progress.done : undefined}
        aria-label={`${stageLabel(progress.stage, progress.device?.device)} progress`}
      />
      <p className="line" data-testid={`${id}-text`}>
        <span className="muted">
          Step {step}/{RUN_STAGES.length} ·{' '}
        </span>
        {progressText(progress)}
      </p>
      {(rate !== null || etaMs !== null) && (
        <p className="line muted" data-testid={`${id}-eta`}>
          {rate !== null && progress.stage === 'extract' && `${Math.round(rate).toLocaleString('en-US')} tokens/s · `}
          {etaMs !== null && `about ${formatDuration(etaMs)} left`}
        </p>
      )}
    </div>
  );
}

export function RunSection() {
  const run = useApp((s) => s.run);
  const device = useApp((s) => s.device);
  const preparing = useApp((s) => s.preparing);
  const ready = useApp((s) => !!s.manifest && !!s.corpus && s.corpus.sentences.length > 0);
  // A corpus the tab cannot hold is refused on the corpus card; Run stays off for it.
  const refused = useApp((s) => s.count.status === 'done' && s.count.facts.refusal !== null);
  const hasResult = useApp((s) => s.shown !== null);
  const rotary = useApp((s) => s.manifest?.rotary === true);
  const vectors = useApp((s) => s.rotary);
  const running = run.status === 'running';
  return (
    <section className="panel-section" aria-label="Run">
      <div className="run-row">
        <button
          type="button"
          className="primary"
          disabled={!ready || running || refused}
          title={refused ? 'This corpus is too large for a browser tab (see the corpus card)' : undefined}
          onClick={() => void runCorpus()}
        >
          Run
        </button>
        <button type="button" className="secondary" disabled={!running} onClick={cancelRun}>
          Cancel
        </button>
      </div>
      <div className="row">
        <span className="row-label">Device</span>
        <Segmented
          label="Device"
          name="device"
          value={device}
          disabled={running}
          options={DEVICE_PREFERENCES.map((d) => ({ value: d, ...DEVICE_LABELS[d] }))}
          onChange={setDevice}
        />
      </div>
      {rotary && (
        <>
          <div className="row">
            <span className="row-label">RoPE</span>
            <Segmented
              label="Rotary vectors"
              name="rotary"
              value={vectors}
              disabled={running}
              options={[
                { value: 'post', label: 'Rotated', title: 'Q and K after the rotary position rotation: what attention is computed from' },
                { value: 'pre', label: 'Unrotated', title: 'Q and K before the rotation: no positions mixed in; attention comes from the rotated ones' },
              ]}
              onChange={setRotary}
            />
          </div>
          <p className="line small muted" data-testid="rotary-note">
            {vectors === 'post'
              ? 'After the rotary rotation (what attention uses): only here does the key translation leave attention unchanged, and attention is checked.'
              : 'Before the rotary rotation: positions are not mixed in. Attention is not softmax(q·k/√d) of these vectors: links, figures and the check use the rotated ones, kept beside them; the normalizations’ key translation does not leave it unchanged here.'}
          </p>
        </>
      )}
      {!running && preparing && (
        <p className="line muted" data-testid="preparing">
          Getting the model ready: {progressText(preparing)}
        </p>
      )}
      <div aria-live="polite">
        {run.status === 'running' && <Progress progress={run.progress} etaMs={run.etaMs} rate={run.rate} />}
        {run.status === 'running' && run.progress.device && <DeviceBadge device={run.progress.device} />}
        {run.status === 'running' && run.slower && (
          <div className="warning" role="alert" data-testid="slow-device">
            WebGPU runs at {Math.round(run.slower.webgpu).toLocaleString('en-US')} tokens/s here; WASM measured{' '}
            {Math.round(run.slower.wasm).toLocaleString('en-US')} tokens/s on this machine.{' '}
            <button type="button" className="secondary small" onClick={() => void switchToWasmAndRerun()}>
              Switch to WASM and restart
            </button>
          </div>
        )}
        {run.status === 'cancelled' && (
          <p className="status" role="status">
            Run cancelled.{hasResult ? ' The result on screen is kept.' : ''} Press Run to start again.
          </p>
        )}
        {run.status === 'error' && (
          <p className="error" role="alert" data-testid="run-error">
            {run.kind === 'refused' ? 'Not run: ' : ''}
            {run.message}
            {hasResult ? ' The result on screen is kept.' : ''}
          </p>
        )}
      </div>
    </section>
  );
}
