// The model a run will use, from its manifest: shape, size and where the weights came from.
import { type ModelManifest, describeSource } from '@/lib/model/manifest';

export function ModelCard({ manifest, pending }: { manifest: ModelManifest | null; pending: boolean }) {
  return (
    <article className="card" aria-label="Model">
      <h2>Model</h2>
      {manifest ? (
        <>
          <p className="big" data-testid="model-name">
            {manifest.name}
          </p>
          <dl className="facts">
            <dt>Architecture</dt>
            <dd data-testid="model-shape">
              {manifest.modelType.toUpperCase()} · {manifest.layers} layers × {manifest.heads} heads · head size {manifest.headDim}
            </dd>
            <dt>Hidden / vocab</dt>
            <dd>
              {manifest.hidden} / {manifest.vocabSize.toLocaleString('en-US')} tokens
            </dd>
            <dt>Max sentence</dt>
            <dd>{manifest.maxTokens} tokens</dd>
            <dt>Weights</dt>
            <dd>
              {(manifest.onnx.bytes / 1e6).toFixed(1)} MB ONNX (opset {manifest.onnx.opset}), from {describeSource(manifest.source)}
            </dd>
          </dl>
        </>
      ) : (
        pending && <p className="status">Reading the model manifest…</p>
      )}
    </article>
  );
}
