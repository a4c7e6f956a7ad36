'use client';
// The model a run uses, from its manifest (shape, size, where the weights came from), and
// how to change it: a Hugging Face id looked up (size and memory first) and downloaded, a
// local folder, or a model already stored in this browser or served by this site.
import { useRef } from 'react';
import { formatBytes } from '@/lib/util/format';
import type { InstallProgress } from '@/lib/run/install';
import { describeFit } from '@/lib/model/fit';
import { describePlan } from '@/lib/model/hub';
import { describeSource, graphBytesOf } from '@/lib/model/manifest';
import { FORMAT_LABELS } from '@/lib/model/weights';
import {
  cancelInstall,
  choosePrecision,
  installFolder,
  installPlanned,
  lookUp,
  openBuiltIn,
  openModel,
  removeStored,
  setForm,
  setPickerOpen,
  usePicker,
} from '../app/models';
import { useApp } from '../state/appStore';

const FAMILY_NAMES: Record<string, string> = {
  bert: 'BERT',
  roberta: 'RoBERTa',
  distilbert: 'DistilBERT',
  gpt2: 'GPT-2',
  llama: 'Llama',
  qwen2: 'Qwen2',
  qwen3: 'Qwen3',
  mistral: 'Mistral',
  gemma: 'Gemma',
  gemma2: 'Gemma 2',
  gemma3: 'Gemma 3',
  gemma3_text: 'Gemma 3',
  phi3: 'Phi-3',
  gpt_neox: 'GPT-NeoX',
  opt: 'OPT',
};

const STAGE_WORDS: Record<InstallProgress['stage'], string> = {
  download: 'Downloading',
  read: 'Reading the folder',
  convert: 'Converting to a Q/K graph',
  store: 'Storing in this browser',
};

function InstallStatus() {
  const task = usePicker((s) => s.task);
  if (task.status === 'looking') return <p className="line small muted">Looking up config.json and the weights’ headers…</p>;
  if (task.status === 'error')
    return (
      <p className="error small" role="alert" data-testid="model-picker-error">
        {task.message}
      </p>
    );
  if (task.status === 'planned') {
    const { plan } = task;
    return (
      <div data-testid="model-plan">
        <p className="line small">
          <strong>{plan.repo}</strong> <span className="muted">@{plan.commit.slice(0, 10)}</span>
        </p>
        <p className="line small">{describePlan(plan)}</p>
        {plan.refusal ? (
          <p className="error small" role="alert">
            {plan.refusal}
          </p>
        ) : (
          <>
            <fieldset className="precision" data-testid="model-precision">
              <legend className="small">Weights</legend>
              {plan.formats.map((fit) => (
                <label key={fit.format} className={`line small${fit.fits ? '' : ' muted'}`} title={fit.why}>
                  <input
                    type="radio"
                    name="precision"
                    value={fit.format}
                    checked={task.format === fit.format}
                    disabled={!fit.fits}
                    onChange={() => choosePrecision(fit.format)}
                  />{' '}
                  {describeFit(fit)}
                  {fit.format === plan.format ? ' · suggested' : ''}
                </label>
              ))}
            </fieldset>
            <div className="run-row">
              <button type="button" className="primary" onClick={() => void installPlanned()}>
                Download and open{task.format && task.format !== 'float32' ? ` in ${FORMAT_LABELS[task.format]}` : ''}
              </button>
            </div>
          </>
        )}
      </div>
    );
  }
  if (task.status === 'installing') {
    const p = task.progress;
    const counted = p && (p.stage === 'download' || p.stage === 'read' || p.stage === 'convert') && p.total > 0;
    return (
      <div className="progress" data-testid="model-install">
        <p className="line small">
          {p ? STAGE_WORDS[p.stage] : 'Starting'} {task.what}
          {counted && ` · ${formatBytes(p.done)} of ${formatBytes(p.total)}`}
        </p>
        {counted && <progress max={p.total} value={p.done} aria-label={p.stage === 'convert' ? 'Model conversion' : 'Model download'} />}
        <div className="run-row">
          <button type="button" className="secondary small" onClick={cancelInstall}>
            Cancel
          </button>
        </div>
      </div>
    );
  }
  return null;
}

function HubForm() {
  const form = usePicker((s) => s.form);
  const busy = usePicker((s) => s.task.status === 'installing' || s.task.status === 'looking');
  const folder = useRef<HTMLInputElement>(null);
  return (
    <form
      className="model-form"
      onSubmit={(e) => {
        e.preventDefault();
        void lookUp();
      }}
    >
      <div className="row">
        <label className="row-label" htmlFor="hub-id">
          Hub id
        </label>
        <input
          id="hub-id"
          type="text"
          placeholder="gpt2, HuggingFaceTB/SmolLM2-135M…"
          value={form.id}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setForm({ id: e.target.value })}
        />
      </div>
      <div className="row">
        <label className="row-label" htmlFor="hub-revision">
          Revision
        </label>
        <input id="hub-revision" type="text" value={form.revision} spellCheck={false} onChange={(e) => setForm({ revision: e.target.value })} />
        <button type="submit" className="secondary small" disabled={busy}>
          Look up
        </button>
      </div>
      <details className="small">
        <summary className="muted">Endpoint and access token</summary>
        <div className="row">
          <label className="row-label" htmlFor="hub-endpoint">
            Endpoint
          </label>
          <input id="hub-endpoint" type="url" value={form.endpoint} spellCheck={false} onChange={(e) => setForm({ endpoint: e.target.value })} />
        </div>
        <div className="row">
          <label className="row-label" htmlFor="hub-token">
            Token
          </label>
          <input
            id="hub-token"
            type="password"
            value={form.token}
            autoComplete="off"
            placeholder="hf_… for gated models"
            onChange={(e) => setForm({ token: e.target.value })}
          />
        </div>
        <p className="line muted">The token stays in this page’s memory (gone on reload) and is sent only to the endpoint above.</p>
      </details>
      <p className="line small">
        <button type="button" className="link-button" disabled={busy} onClick={() => folder.current?.click()}>
          Open a local folder…
        </button>{' '}
        <span className="muted">config.json, tokenizer.json (or preprocessor_config.json for images) and safetensors weights</span>
        <input
          ref={folder}
          type="file"
          hidden
          data-testid="model-folder"
          // A folder picker: every file under the chosen folder, with its relative path.
          {...({ webkitdirectory: '', directory: '' } as Record<string, string>)}
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = '';
            void installFolder(files);
          }}
        />
      </p>
    </form>
  );
}

function ModelList() {
  const stored = usePicker((s) => s.stored);
  const builtIn = usePicker((s) => s.builtIn);
  const current = useApp((s) => s.manifest);
  const running = useApp((s) => s.run.status === 'running');
  const busy = usePicker((s) => s.task.status === 'installing');
  const others = builtIn.filter((n) => current?.storeKey || n !== current?.name);
  if (stored.length === 0 && others.length === 0) return null;
  return (
    <ul className="model-list" aria-label="Models in this browser">
      {others.map((name) => (
        <li key={name}>
          <span className="model-list-name">{name}</span> <span className="muted">built in</span>
          <button type="button" className="link-button" disabled={running || busy} onClick={() => void openBuiltIn(name)}>
            Open
          </button>
        </li>
      ))}
      {stored.map((e) => {
        const m = e.manifest;
        const on = current?.storeKey === e.key;
        return (
          <li key={e.key} title={describeSource(m.source)}>
            <span className="model-list-name">{m.name}</span>{' '}
            <span className="muted">
              {m.layers}×{m.heads} · {formatBytes(graphBytesOf(m))}
              {m.weights ? ` · ${FORMAT_LABELS[m.weights]}` : ''}
            </span>
            {on ? (
              <span className="muted"> open</span>
            ) : (
              <button type="button" className="link-button" disabled={running || busy} onClick={() => void openModel(m)}>
                Open
              </button>
            )}
            <button type="button" className="link-button" disabled={busy} onClick={() => void removeStored(e.key)} aria-label={`Delete ${m.name}`}>
              Delete
            </button>
          </li>
        );
      })}
    </ul>
  );
}

export function ModelSection() {
  const manifest = useApp((s) => s.manifest);
  const failed = useApp((s) => s.loadError !== null);
  const open = usePicker((s) => s.open);
  return (
    <section className="panel-section" aria-label="Model">
      <h2>Model</h2>
      {manifest ? (
        <>
          <p
            className="lead"
            title={`${(graphBytesOf(manifest) / 1e6).toFixed(1)} MB ONNX (${FORMAT_LABELS[manifest.weights ?? 'float32']} weights) from ${describeSource(manifest.source)}; hidden size ${manifest.hidden}, vocabulary ${manifest.vocabSize.toLocaleString('en-US')}, at most ${manifest.maxTokens} tokens a sentence`}
          >
            <strong data-testid="model-name">{manifest.name}</strong>{' '}
            <span className="muted small">
              {formatBytes(graphBytesOf(manifest))}
              {manifest.weights ? ` · ${FORMAT_LABELS[manifest.weights]} weights` : ''}
            </span>
          </p>
          <p className="line small" data-testid="model-shape">
            {FAMILY_NAMES[manifest.modelType] ?? manifest.architecture ?? manifest.modelType} · {manifest.layers} layers × {manifest.heads} heads
            {manifest.kvHeads && manifest.kvHeads !== manifest.heads ? ` (${manifest.kvHeads} key heads)` : ''} · head size {manifest.headDim}
            {manifest.causal ? ' · causal' : ''} ·{' '}
            <button type="button" className="link-button" aria-expanded={open} onClick={() => setPickerOpen(!open)}>
              {open ? 'Close' : 'Other models…'}
            </button>
          </p>
        </>
      ) : (
        !failed && <p className="line muted">Reading the model manifest…</p>
      )}
      {open && (
        <div className="model-picker" aria-label="Open another model" role="group">
          <HubForm />
          <InstallStatus />
          <ModelList />
        </div>
      )}
    </section>
  );
}
