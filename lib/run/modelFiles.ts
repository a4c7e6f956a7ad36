// A converted graph in a file-store folder (the browser's stored models): written streaming
// — model.onnx and, for its weights, external data files beside it, each weight produced,
// written and dropped in turn — and opened again as onnxruntime takes it, the data files
// handed over as Files without reading them here.
import type { ExternalBytes, ModelGraph } from '../engine/runtime';
import { ModelFilesError } from '../model/catalog';
import { MODEL_FILE, type ModelManifest } from '../model/manifest';
import type { GraphBuilder, ModelMeta } from '../onnx/graph';
import type { StoreFolder, WritableStoreFile } from '../store/files';

export const DATA_FILE = `${MODEL_FILE}.data`;

/** Writes a graph into `folder`: model.onnx and its data files; returns their sizes. */
export async function writeGraph(
  folder: StoreFolder,
  graph: GraphBuilder,
  meta: ModelMeta,
  onWeights: (done: number, total: number) => void | Promise<void>,
): Promise<{ modelBytes: number; data: { file: string; bytes: number }[]; model: Uint8Array }> {
  const writers = new Map<string, WritableStoreFile>();
  const sizes = new Map<string, number>();
  const model: Uint8Array[] = [];
  let done = 0;
  const total = graph.weightBytes;
  try {
    const written = await graph.write(
      meta,
      {
        // model.onnx holds names and shapes only (a few hundred KB): kept whole to hash.
        model: (bytes) => void model.push(bytes.slice()),
        data: async (file, bytes, at) => {
          if (!writers.has(file)) writers.set(file, await folder.create(file));
          await writers.get(file)!.write(bytes, at);
          sizes.set(file, Math.max(sizes.get(file) ?? 0, at + bytes.byteLength));
          done += bytes.byteLength;
          await onWeights(done, total);
        },
      },
      { externalData: { file: DATA_FILE } },
    );
    for (const w of writers.values()) await w.close();
    writers.clear();
    const joined = new Uint8Array(written.modelBytes);
    let at = 0;
    for (const piece of model) {
      joined.set(piece, at);
      at += piece.byteLength;
    }
    const out = await folder.create(MODEL_FILE);
    await out.write(joined, 0);
    await out.close();
    return { modelBytes: written.modelBytes, data: written.dataFiles.map((file) => ({ file, bytes: sizes.get(file) ?? 0 })), model: joined };
  } finally {
    for (const w of writers.values()) await Promise.resolve(w.close()).catch(() => {});
  }
}

/** A stored graph as onnxruntime opens it; a missing or short file is named. */
export async function readGraph(folder: StoreFolder, manifest: ModelManifest): Promise<ModelGraph> {
  const damaged = (what: string) => new ModelFilesError(`The stored copy of ${manifest.name} is damaged (${what}): delete it and open the model again.`);
  const model = await folder.open(manifest.onnx.file);
  if (!model || model.size !== manifest.onnx.bytes)
    throw damaged(`${manifest.onnx.file} is ${model ? `${model.size} of ${manifest.onnx.bytes} bytes` : 'missing'}`);
  const data: { path: string; data: ExternalBytes }[] = [];
  for (const d of manifest.data ?? []) {
    const file = await folder.open(d.file);
    if (!file || file.size !== d.bytes) throw damaged(`${d.file} is ${file ? `${file.size} of ${d.bytes} bytes` : 'missing'}`);
    const blob = (await file.blob?.()) as ExternalBytes | undefined;
    data.push({ path: d.file, data: blob ?? (await file.read(0, file.size)) });
  }
  return { bytes: await model.read(0, model.size), data, float16: manifest.weights === 'float16' };
}
