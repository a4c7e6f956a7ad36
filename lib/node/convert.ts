// Node-only: converts a checkpoint on disk into a model folder (the setup step, the CLI, the
// benches) streaming — each weight is read from its safetensors file, converted and written
// out in turn, so a checkpoint of any size converts in about the memory of its largest
// tensor. Past 1 GiB of weights the graph keeps them in external data files beside
// model.onnx (protobuf cannot hold 2 GB, and a browser reads each file into one buffer).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelGraph } from '../engine/runtime';
import { type ModelSpec, buildModelGraph } from '../model/architectures';
import { CONVERTER_VERSION, MANIFEST_FILE, MODEL_FILE, PREPROCESSOR_FILE, type ModelManifest, type ModelSource, manifestFor } from '../model/manifest';
import { processorImageSize } from '../image/preprocess';
import { type ByteFile, TensorSource } from '../model/tensors';
import type { WeightFormat } from '../model/weights';

/** Graphs with more weight bytes than this keep them in external data files. */
export const EXTERNAL_DATA_ABOVE = 2 ** 30;
export const DATA_FILE = `${MODEL_FILE}.data`;

export interface SourceFiles {
  config: string;
  /** A text model's tokenizer files… */
  tokenizer?: string;
  tokenizerConfig?: string;
  /** …or a vision model's preprocessor_config.json. */
  preprocessor?: string;
}

/** A file on disk read by byte ranges (opened on first read). */
export function diskFile(path: string): ByteFile {
  let fd: number | undefined;
  const size = statSync(path).size;
  return {
    name: path,
    size,
    read: async (offset, length) => {
      fd ??= openSync(path, 'r');
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, got, length - got, offset + got);
        if (n === 0) throw new Error(`${path} ends at ${offset + got} bytes, before ${offset + length}`);
        got += n;
      }
      return out;
    },
  };
}

/** The checkpoint's safetensors files in a folder: model.safetensors, or the shards its index names. */
export function checkpointFiles(dir: string): string[] {
  if (existsSync(join(dir, 'model.safetensors'))) return [join(dir, 'model.safetensors')];
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
    return [...new Set(Object.values(map))].sort().map((f) => join(dir, f));
  }
  throw new Error(`${dir} has no model.safetensors or model.safetensors.index.json`);
}

export interface ConvertResult {
  manifest: ModelManifest;
  spec: ModelSpec;
  seconds: number;
  /** model.onnx plus its data files. */
  bytes: number;
}

/**
 * Converts config.json + safetensors files into `dir` (model.onnx, its data files when large,
 * the manifest, config and tokenizer files). Files from an earlier conversion are replaced.
 */
export async function convertToFolder(
  dir: string,
  checkpoint: { name: string; source: ModelSource; sourceName: string; files: SourceFiles; weights: ByteFile[] },
  format: WeightFormat = 'float32',
): Promise<ConvertResult> {
  const started = performance.now();
  mkdirSync(dir, { recursive: true });
  const source = await TensorSource.open(checkpoint.weights);
  const image = checkpoint.files.preprocessor ? processorImageSize(checkpoint.files.preprocessor, checkpoint.name) : undefined;
  const { spec, graph, meta } = buildModelGraph(JSON.parse(checkpoint.files.config), source, {
    sourceName: checkpoint.sourceName,
    format,
    imageSize: image?.size,
  });
  if (spec.family === 'vision' && !image) throw new Error(`${checkpoint.name} is a vision model without a ${PREPROCESSOR_FILE}`);
  for (let i = 0; existsSync(join(dir, i ? `${DATA_FILE}_${i}` : DATA_FILE)); i++) rmSync(join(dir, i ? `${DATA_FILE}_${i}` : DATA_FILE));
  const modelFd = openSync(join(dir, MODEL_FILE), 'w');
  const dataFds = new Map<string, number>();
  const hash = createHash('sha256');
  let written: Awaited<ReturnType<typeof graph.write>>;
  try {
    written = await graph.write(
      meta,
      {
        model: (bytes) => {
          hash.update(bytes);
          writeAll(modelFd, bytes);
        },
        data: (file, bytes, at) => {
          if (!dataFds.has(file)) dataFds.set(file, openSync(join(dir, file), 'w'));
          writeAll(dataFds.get(file)!, bytes, at);
        },
      },
      graph.weightBytes > EXTERNAL_DATA_ABOVE ? { externalData: { file: DATA_FILE } } : {},
    );
  } finally {
    closeSync(modelFd);
    for (const fd of dataFds.values()) closeSync(fd);
  }
  writeFileSync(join(dir, 'config.json'), checkpoint.files.config);
  if (checkpoint.files.tokenizer !== undefined) {
    writeFileSync(join(dir, 'tokenizer.json'), checkpoint.files.tokenizer);
    writeFileSync(join(dir, 'tokenizer_config.json'), checkpoint.files.tokenizerConfig ?? '{}\n');
  }
  if (checkpoint.files.preprocessor !== undefined) writeFileSync(join(dir, PREPROCESSOR_FILE), checkpoint.files.preprocessor);
  const data = written.dataFiles.map((file) => ({ file, bytes: statSync(join(dir, file)).size }));
  const manifest: ModelManifest = {
    ...manifestFor(checkpoint.name, checkpoint.source, spec, { bytes: written.modelBytes, sha256: hash.digest('hex') }, image?.processor),
    ...(data.length ? { data } : {}),
    ...(format !== 'float32' ? { weights: format } : {}),
  };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, spec, seconds: (performance.now() - started) / 1000, bytes: written.modelBytes + written.dataBytes };
}

function writeAll(fd: number, bytes: Uint8Array, at?: number): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, at === undefined ? null : at + done);
}

/** Whether a folder holds a graph this converter version wrote, whole (model.onnx and its data files at their sizes). */
export function isConvertedFolder(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
    const sized = (file: string, bytes: number) => existsSync(join(dir, file)) && statSync(join(dir, file)).size === bytes;
    return (
      manifest.converterVersion === CONVERTER_VERSION &&
      sized(manifest.onnx.file, manifest.onnx.bytes) &&
      (manifest.data ?? []).every((d) => sized(d.file, d.bytes)) &&
      existsSync(join(dir, manifest.image ? PREPROCESSOR_FILE : 'tokenizer.json'))
    );
  } catch {
    return false;
  }
}

/** A converted folder's graph as onnxruntime-node opens it: from its path (onnxruntime reads the data files beside it). */
export function folderGraph(dir: string, manifest: ModelManifest): ModelGraph {
  return { bytes: readFileSync(join(dir, manifest.onnx.file)), path: join(dir, manifest.onnx.file), float16: manifest.weights === 'float16' };
}
