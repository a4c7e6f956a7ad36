// The hub client against a local server with the hub's URL layout: what a look-up says
// (commit, shape, sizes counted from the files themselves), downloads equal to the files byte
// for byte (single and sharded, pinned to the resolved commit, resumed with Range after a cut),
// and every refusal in words: unknown repo, gated with and without a token, unknown revision,
// no safetensors, no tokenizer, unsupported architecture, a connection that keeps dropping,
// cancel, and a model too large for a tab.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../../lib/util/cancel';
import { HubError, downloadHubModel, planHubModel } from '../../../lib/model/hub';
import type { ByteFile } from '../../../lib/model/tensors';
import { convertCheckpoint } from '../../../lib/model/manifest';
import { ROOT } from '../../helpers/models';
import { type HubBytes, type HubServer, repoFromDir, startHubServer } from '../../helpers/hubServer';
import { writeSafetensors } from '../../helpers/safetensorsWriter';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test');
const LLAMA = join(FIXTURES, 'tiny-llama');
const GPT2 = join(FIXTURES, 'tiny-gpt2');

/** The safetensors tensors of a file, read here independently of lib's reader: name → shape + raw bytes. */
function rawTensors(bytes: Uint8Array): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; start: number } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  delete header.__metadata__;
  return { header, start: 8 + length };
}

/** tiny-llama split into two shards with an index, as sharded hub repositories are laid out. */
function shardedLlama(): Map<string, HubBytes> {
  const whole = new Uint8Array(readFileSync(join(LLAMA, 'model.safetensors')));
  const { header, start } = rawTensors(whole);
  const names = Object.keys(header);
  const shards = [names.slice(0, names.length >> 1), names.slice(names.length >> 1)];
  const files = repoFromDir(LLAMA, ['config.json', 'tokenizer.json', 'tokenizer_config.json']);
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const n of shard) {
      const [b, e] = header[n].data_offsets;
      tensors[n] = { shape: header[n].shape, data: new Float32Array(whole.slice(start + b, start + e).buffer) };
      weightMap[n] = file;
    }
    files.set(file, writeSafetensors(tensors));
  });
  files.set('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify({ metadata: { total_size: whole.byteLength }, weight_map: weightMap })));
  return files;
}

let hub: HubServer;
const ref = (repo: string, extra: { revision?: string; token?: string } = {}) => ({ endpoint: hub.url, repo, ...extra });

beforeAll(async () => {
  const unsupported = repoFromDir(GPT2);
  unsupported.set('config.json', new TextEncoder().encode(JSON.stringify({ model_type: 't5', architectures: ['T5Model'] })));
  const noWeights = repoFromDir(GPT2);
  noWeights.delete('model.safetensors');
  noWeights.set('pytorch_model.bin', new Uint8Array(16));
  const noTokenizer = repoFromDir(GPT2);
  noTokenizer.delete('tokenizer.json');
  // Headers that declare millions of float32 parameters in a linear layer (the data is never fetched by a look-up).
  const declaring = (rows: number) => {
    const repo = repoFromDir(GPT2);
    const header = new TextEncoder().encode(JSON.stringify({ 'h.0.mlp.c_fc.weight': { dtype: 'F32', shape: [rows, 1000], data_offsets: [0, rows * 4000] } }));
    const file = new Uint8Array(8 + header.byteLength);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.byteLength), true);
    file.set(header, 8);
    repo.set('model.safetensors', file);
    return repo;
  };
  hub = await startHubServer({
    'qkviz-test/tiny-llama': { files: repoFromDir(LLAMA) },
    'qkviz-test/tiny-gpt2': { files: repoFromDir(GPT2) },
    'qkviz-test/sharded-llama': { files: shardedLlama() },
    'qkviz-test/gated-gpt2': { files: repoFromDir(GPT2), token: 'hf_right' },
    'qkviz-test/flaky-gpt2': { files: repoFromDir(GPT2), cutOnce: ['model.safetensors'] },
    'qkviz-test/broken-gpt2': { files: repoFromDir(GPT2), cutAlways: ['model.safetensors'] },
    'qkviz-test/t5': { files: unsupported },
    'qkviz-test/bin-only': { files: noWeights },
    'qkviz-test/no-tokenizer': { files: noTokenizer },
    'qkviz-test/half-billion': { files: declaring(500_000) },
    'qkviz-test/one-and-a-half-billion': { files: declaring(1_500_000) },
    'qkviz-test/huge': { files: declaring(8_000_000) },
  });
});
afterAll(() => hub?.close());

async function refusal(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(e).toBeInstanceOf(HubError);
  return e as HubError;
}

/** A downloaded file's bytes, whole. */
const whole = (file: ByteFile) => file.read(0, file.size);

describe('hub look-up', () => {
  it('resolves the commit and counts sizes and parameters from the files', async () => {
    const plan = await planHubModel(ref('qkviz-test/tiny-llama'));
    const file = readFileSync(join(LLAMA, 'model.safetensors'));
    const { header } = rawTensors(new Uint8Array(file));
    const config = JSON.parse(readFileSync(join(LLAMA, 'config.json'), 'utf8'));
    expect(plan.commit).toBe(hub.commitOf('qkviz-test/tiny-llama'));
    expect(plan.weights).toEqual([{ name: 'model.safetensors', bytes: file.byteLength }]);
    expect(plan.downloadBytes).toBe(file.byteLength);
    expect(plan.parameters).toBe(Object.values(header).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0));
    expect(plan.spec.layers).toBe(config.num_hidden_layers);
    expect(plan.spec.kvHeads).toBe(config.num_key_value_heads);
    expect(plan.tokenizerFiles).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    expect(plan.refusal).toBeUndefined();
    // The look-up reads headers through Range requests, never the whole weights file.
    const weightReads = hub.requests.filter((r) => r.startsWith('GET /cdn/qkviz-test/tiny-llama/'));
    expect(weightReads.length).toBeGreaterThan(0);
    expect(weightReads.every((r) => / bytes=0-\d+$/.test(r))).toBe(true);
  });

  it('downloads every file byte for byte from the pinned commit', async () => {
    const plan = await planHubModel(ref('qkviz-test/tiny-gpt2'));
    const seen: number[] = [];
    hub.requests.length = 0;
    const files = await downloadHubModel(plan, undefined, (done) => seen.push(done));
    expect(Buffer.from(await whole(files.weights[0])).equals(readFileSync(join(GPT2, 'model.safetensors')))).toBe(true);
    expect(files.tokenizer).toBe(readFileSync(join(GPT2, 'tokenizer.json'), 'utf8'));
    expect(seen.at(-1)).toBe(plan.downloadBytes);
    const resolves = hub.requests.filter((r) => r.includes('/resolve/'));
    expect(resolves.length).toBeGreaterThan(0);
    expect(resolves.every((r) => r.includes(`/resolve/${plan.commit}/`))).toBe(true);
  });

  it('reads sharded weights through their index into the same graph as the single file', async () => {
    const plan = await planHubModel(ref('qkviz-test/sharded-llama'));
    expect(plan.weights.map((w) => w.name)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const files = await downloadHubModel(plan, undefined, () => {});
    const config = readFileSync(join(LLAMA, 'config.json'), 'utf8');
    const sharded = (await convertCheckpoint(files.config, await Promise.all(files.weights.map(whole)), 'x')).onnx;
    const single = (await convertCheckpoint(config, new Uint8Array(readFileSync(join(LLAMA, 'model.safetensors'))), 'x')).onnx;
    expect(Buffer.from(sharded).equals(Buffer.from(single))).toBe(true);
  });

  it('resumes a cut download with a Range request', async () => {
    const plan = await planHubModel(ref('qkviz-test/flaky-gpt2'));
    hub.requests.length = 0;
    const files = await downloadHubModel(plan, undefined, () => {});
    expect(Buffer.from(await whole(files.weights[0])).equals(readFileSync(join(GPT2, 'model.safetensors')))).toBe(true);
    expect(hub.requests.some((r) => /GET \/cdn\/qkviz-test\/flaky-gpt2\/.* bytes=[1-9]\d*-$/.test(r))).toBe(true);
  });

  it('says where a download that keeps dropping stopped', async () => {
    const plan = await planHubModel(ref('qkviz-test/broken-gpt2'));
    const e = await refusal(downloadHubModel(plan, undefined, () => {}));
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/stopped at .* of .* after 4 tries/);
  });

  it('cancels a download', async () => {
    const plan = await planHubModel(ref('qkviz-test/tiny-gpt2'));
    const controller = new AbortController();
    controller.abort();
    await expect(downloadHubModel(plan, undefined, () => {}, { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('hub refusals', () => {
  it('an unknown repository', async () => {
    const e = await refusal(planHubModel(ref('nobody/no-such-model')));
    expect(e.code).toBe('not-found');
    expect(e.message).toContain('There is no model "nobody/no-such-model"');
  });

  it('a gated repository without, with a wrong and with the right token', async () => {
    const without = await refusal(planHubModel(ref('qkviz-test/gated-gpt2')));
    expect(without.code).toBe('gated');
    expect(without.message).toMatch(/is gated: .* access token/);
    const wrong = await refusal(planHubModel(ref('qkviz-test/gated-gpt2', { token: 'hf_wrong' })));
    expect(wrong.message).toMatch(/token has no access/);
    const plan = await planHubModel(ref('qkviz-test/gated-gpt2', { token: 'hf_right' }));
    const files = await downloadHubModel(plan, 'hf_right', () => {});
    expect(files.weights[0].size).toBe(plan.downloadBytes);
  });

  it('an unknown revision', async () => {
    const e = await refusal(planHubModel(ref('qkviz-test/tiny-gpt2', { revision: 'v9' })));
    expect(e.code).toBe('revision');
    expect(e.message).toContain('no revision "v9"');
  });

  it('no safetensors, no tokenizer, an unsupported architecture', async () => {
    const bin = await refusal(planHubModel(ref('qkviz-test/bin-only')));
    expect(bin.message).toMatch(/no safetensors weights .* not PyTorch \.bin/);
    const tok = await refusal(planHubModel(ref('qkviz-test/no-tokenizer')));
    expect(tok.message).toContain('no tokenizer.json');
    const t5 = await refusal(planHubModel(ref('qkviz-test/t5')));
    expect(t5.code).toBe('unsupported');
    expect(t5.message).toMatch(/model_type "t5" \(T5Model\) is not supported\. QKViz converts: .*gpt2.*llama.*qwen3/);
  });

  it('the precision a look-up picks, and a model too large for a tab in any, with numbers, before any weight is fetched', async () => {
    const small = await planHubModel(ref('qkviz-test/tiny-gpt2'));
    expect(small.format).toBe('float32');
    // 0.5B: 1.86 GB in float32 is over the 1.5 GiB kept for exact weights; 0.93 GB in float16 is not.
    const half = await planHubModel(ref('qkviz-test/half-billion'));
    expect(half.format).toBe('float16');
    expect(half.formats.find((f) => f.format === 'float32')!.graphBytes).toBeGreaterThan(1.5 * 2 ** 30);
    // 1.5B: float16 too is over 1.5 GiB, 8-bit (1 byte + a float32 scale per 32 weights) as well; 4-bit is 0.94 GB.
    const big = await planHubModel(ref('qkviz-test/one-and-a-half-billion'));
    expect(big.formats.find((f) => f.format === 'int8')!.graphBytes).toBeGreaterThan(1.5 * 2 ** 30);
    expect(big.format).toBe('int4');
    expect(big.formats.find((f) => f.format === 'int4')!.graphBytes).toBeCloseTo(1.5e9 * (0.5 + 4 / 32), -6);
    expect(big.refusal).toBeUndefined();
    const huge = await planHubModel(ref('qkviz-test/huge'));
    expect(huge.parameters).toBe(8e9);
    expect(huge.format).toBeNull();
    expect(huge.refusal).toMatch(/8\.00B parameters: even in 4-bit its weights take 4\.66 GB, more than a tab's onnxruntime holds/);
  });
});
