// Reads the reference outputs scripts/make-reference-models.py wrote from Hugging Face
// transformers (float64 .npy, tests/fixtures/hub/qkviz-test/*/reference/), indexed the way
// tests compare them: by layer, query head, sentence, token and dimension.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './models';

/** The tiny random-weight checkpoints scripts/make-reference-models.sh makes, one per architecture and layout. */
export const REFERENCE_FIXTURES = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test');
export const REFERENCE_MODELS = [
  'tiny-bert',
  'tiny-roberta',
  'tiny-distilbert',
  'tiny-gpt2',
  'tiny-llama',
  'tiny-qwen2',
  'tiny-qwen3',
  'tiny-mistral',
  'tiny-gemma',
  'tiny-gemma2',
  'tiny-gemma3',
  'tiny-phi3',
  'tiny-pythia',
  'tiny-opt',
  'tiny-opt-350m-layout',
];

/** A little-endian float64 or uint8 .npy (C order), as numpy.save writes the references and test images. */
export function readNpyFile(path: string): { data: Float64Array | Uint8Array; shape: number[] } {
  const bytes = readFileSync(path);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const shape = (header.match(/'shape':\s*\(([^)]*)\)/)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = 10 + headerLength;
  if (/'descr':\s*'\|u1'/.test(header)) return { data: new Uint8Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + count)), shape };
  if (!/'descr':\s*'<f8'/.test(header)) throw new Error(`${path}: neither float64 nor uint8 (${header.trim()})`);
  return { data: new Float64Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + count * 8)), shape };
}

const readNpy64 = (path: string) => readNpyFile(path) as { data: Float64Array; shape: number[] };

export interface Reference {
  sentences: string[];
  ids: number[][];
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Whether q_post/k_post exist (rotary models). */
  rotary: boolean;
  q(l: number, h: number, s: number, t: number, d: number, post?: boolean): number;
  /** Query head h's key (its group's key with grouped-query attention). */
  k(l: number, h: number, s: number, t: number, d: number, post?: boolean): number;
  attention(l: number, h: number, s: number, i: number, j: number): number;
  /** Key/value head g's value (v.npy, scripts/make-value-references.py); absent before it was made. */
  v?(l: number, g: number, s: number, t: number, d: number): number;
  /** What head h writes for token s:t, dimension o of the hidden state (head_out.npy: the output projection's input through the head's slice of it). */
  headOut?(l: number, h: number, s: number, t: number, o: number): number;
  hidden?: number;
  /** |got − want| relative to the value, or absolute below 1. */
  relative(want: number, got: number): number;
}

export function readReference(dir: string): Reference {
  const ref = join(dir, 'reference');
  const tokens = JSON.parse(readFileSync(join(ref, 'tokens.json'), 'utf8')) as { sentences: string[]; ids: number[][] };
  const arrays = Object.fromEntries(
    ['q_pre', 'k_pre', 'q_post', 'k_post', 'attention', 'v', 'head_out']
      .filter((n) => existsSync(join(ref, `${n}.npy`)))
      .map((n) => [n, readNpy64(join(ref, `${n}.npy`))]),
  );
  const [layers, heads, N, headDim] = arrays.q_pre.shape;
  const kvHeads = arrays.k_pre.shape[1];
  const rowStart: number[] = [];
  const blockStart: number[] = [];
  let rows = 0;
  let blocks = 0;
  for (const ids of tokens.ids) {
    rowStart.push(rows);
    blockStart.push(blocks);
    rows += ids.length;
    blocks += ids.length * ids.length;
  }
  const vector = (name: string, l: number, h: number, s: number, t: number, d: number, count: number) =>
    arrays[name].data[((l * count + h) * N + rowStart[s] + t) * headDim + d];
  return {
    sentences: tokens.sentences,
    ids: tokens.ids,
    layers,
    heads,
    kvHeads,
    headDim,
    rotary: 'q_post' in arrays,
    q: (l, h, s, t, d, post = false) => vector(post ? 'q_post' : 'q_pre', l, h, s, t, d, heads),
    k: (l, h, s, t, d, post = false) => vector(post ? 'k_post' : 'k_pre', l, Math.floor(h / (heads / kvHeads)), s, t, d, kvHeads),
    attention: (l, h, s, i, j) => arrays.attention.data[(l * heads + h) * blocks + blockStart[s] + i * tokens.ids[s].length + j],
    relative: (want, got) => Math.abs(got - want) / Math.max(1, Math.abs(want)),
    ...(arrays.v && arrays.head_out
      ? {
          v: (l: number, g: number, s: number, t: number, d: number) => vector('v', l, g, s, t, d, kvHeads),
          hidden: arrays.head_out.shape[3],
          headOut: (l: number, h: number, s: number, t: number, o: number) =>
            arrays.head_out.data[((l * heads + h) * N + rowStart[s] + t) * arrays.head_out.shape[3] + o],
        }
      : {}),
  };
}
