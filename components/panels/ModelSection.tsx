'use client';
// The model a run will use, from its manifest: shape, size and where the weights came from.
import { describeSource } from '@/lib/model/manifest';
import { useApp } from '../state/appStore';

export function ModelSection() {
  const manifest = useApp((s) => s.manifest);
  const failed = useApp((s) => s.loadError !== null);
  return (
    <section className="panel-section" aria-label="Model">
      <h2>Model</h2>
      {manifest ? (
        <>
          <p className="lead" title={`${(manifest.onnx.bytes / 1e6).toFixed(1)} MB ONNX from ${describeSource(manifest.source)}; hidden size ${manifest.hidden}, vocabulary ${manifest.vocabSize.toLocaleString('en-US')}, at most ${manifest.maxTokens} tokens a sentence`}>
            <strong data-testid="model-name">{manifest.name}</strong> <span className="muted small">{(manifest.onnx.bytes / 1e6).toFixed(0)} MB</span>
          </p>
          <p className="line small" data-testid="model-shape">
            {manifest.modelType.toUpperCase()} · {manifest.layers} layers × {manifest.heads} heads · head size {manifest.headDim}
          </p>
        </>
      ) : (
        !failed && <p className="line muted">Reading the model manifest…</p>
      )}
    </section>
  );
}
