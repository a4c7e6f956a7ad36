// `qkviz extract --model-id` through a local hub (HF_ENDPOINT): a Llama with grouped keys is
// fetched, converted and extracted, and numpy compares the files with Hugging Face
// transformers' own float64 vectors — rotated by default, unrotated with --rotary pre (with
// the rotated ones beside them) — with keys per key head, and checks that the model's own
// attention (--attention) is zero above the diagonal and equals the causal softmax of the
// written (rotated) Q/K. A second run reuses the cached conversion;
// an unsupported architecture fails in words.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/models';
import { type HubServer, repoFromDir, startHubServer } from '../helpers/hubServer';

const LLAMA = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test', 'tiny-llama');
const run = promisify(execFile);

const CHECK = `
import json, sys
import numpy as np
out, ref, post = sys.argv[1], sys.argv[2], sys.argv[3] == "post"
meta = json.load(open(f"{out}/tokens.json"))
q = np.load(f"{out}/queries.npy").astype(np.float64); k = np.load(f"{out}/keys.npy").astype(np.float64); a = np.load(f"{out}/attention.npy")
tag = "post" if post else "pre"
qr = np.load(f"{ref}/q_{tag}.npy"); kr = np.load(f"{ref}/k_{tag}.npy")
L, H, N, D = qr.shape; KV = kr.shape[1]
rel = lambda want, got: float((np.abs(got - want) / np.maximum(np.abs(want), 1)).max())
q_err = rel(qr, q)
k_err = rel(kr, k)
own = (q, k)
# Attention comes from the rotated vectors: an unrotated extraction writes them beside its own.
if not post:
    q = np.load(f"{out}/rotated_queries.npy").astype(np.float64); k = np.load(f"{out}/rotated_keys.npy").astype(np.float64)
    q_err = max(q_err, rel(np.load(f"{ref}/q_post.npy"), q)); k_err = max(k_err, rel(np.load(f"{ref}/k_post.npy"), k))
above = 0.0; soft = 0.0; soft_own = 0.0
for l in range(L):
    for h in range(H):
        off = 0
        for s in meta["sentences"]:
            n, st = len(s["ids"]), s["start"]
            block = a[l, h, off:off + n * n].reshape(n, n).astype(np.float64)
            above = max(above, float(np.abs(np.triu(block, 1)).max()) if n > 1 else 0.0)
            for qq, kk, which in ((q, k, "soft"), (own[0], own[1], "own")):
                z = qq[l, h, st:st + n] @ kk[l, h // (H // KV), st:st + n].T / np.sqrt(D)
                z = np.where(np.tril(np.ones((n, n))) > 0, z, -np.inf)
                p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
                e = float(np.abs(p - block).max())
                if which == "soft": soft = max(soft, e)
                else: soft_own = max(soft_own, e)
            off += n * n
print(json.dumps({"shape": list(q.shape), "kshape": list(k.shape), "q_err": q_err, "k_err": k_err, "above": above, "soft": soft, "soft_own": soft_own,
                  "meta": {key: meta.get(key) for key in ["model", "architecture", "heads", "kvHeads", "causal", "rotary"]},
                  "ids": [s["ids"] for s in meta["sentences"]]}))
`;

let hub: HubServer;
let cache: string;
let work: string;

beforeAll(async () => {
  const t5 = repoFromDir(LLAMA);
  t5.set('config.json', new TextEncoder().encode(JSON.stringify({ model_type: 't5', architectures: ['T5ForConditionalGeneration'] })));
  hub = await startHubServer({ 'qkviz-test/tiny-llama': { files: repoFromDir(LLAMA) }, 'qkviz-test/t5': { files: t5 } });
  cache = mkdtempSync(join(tmpdir(), 'qkviz-hub-cache-'));
  work = mkdtempSync(join(tmpdir(), 'qkviz-hub-cli-'));
  const ref = JSON.parse(readFileSync(join(LLAMA, 'reference', 'tokens.json'), 'utf8')) as { sentences: string[] };
  writeFileSync(join(work, 'corpus.txt'), `${ref.sentences.join('\n')}\n`);
});
afterAll(() => hub?.close());

const cli = (...args: string[]) =>
  run(process.execPath, [join(ROOT, 'scripts', 'qkviz.mjs'), ...args], {
    env: { ...process.env, HF_ENDPOINT: hub.url, QKVIZ_HUB_CACHE: cache },
    encoding: 'utf8',
  }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );

async function check(out: string, rotary: 'post' | 'pre') {
  const py = await run('python3', ['-c', CHECK, out, join(LLAMA, 'reference'), rotary], { encoding: 'utf8' });
  return JSON.parse(py.stdout);
}

describe('qkviz extract --model-id', () => {
  it('fetches, converts and extracts a Llama with grouped keys: rotated by default, unrotated with --rotary pre', async () => {
    const ref = JSON.parse(readFileSync(join(LLAMA, 'reference', 'tokens.json'), 'utf8')) as { ids: number[][] };
    const first = await cli('extract', '--model-id', 'qkviz-test/tiny-llama', '--attention', '--input', join(work, 'corpus.txt'), '--out', join(work, 'post'));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/LlamaModel · 2 layers × 4 heads \(2 key heads\)/);
    const post = await check(join(work, 'post'), 'post');
    expect(post.meta).toEqual({ model: 'qkviz-test/tiny-llama', architecture: 'LlamaModel', heads: 4, kvHeads: 2, causal: true, rotary: 'post' });
    expect(post.ids).toEqual(ref.ids);
    expect(post.shape).toEqual([2, 4, 57, 8]);
    expect(post.kshape).toEqual([2, 2, 57, 8]);
    expect(post.q_err).toBeLessThan(1e-4);
    expect(post.k_err).toBeLessThan(1e-4);
    expect(post.above).toBe(0);
    expect(post.soft).toBeLessThan(1e-5);

    const second = await cli(
      'extract',
      '--model-id',
      'qkviz-test/tiny-llama',
      '--rotary',
      'pre',
      '--attention',
      '--input',
      join(work, 'corpus.txt'),
      '--out',
      join(work, 'pre'),
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/converted copy in/);
    expect(second.stderr).not.toMatch(/downloading/);
    const pre = await check(join(work, 'pre'), 'pre');
    expect(pre.meta.rotary).toBe('pre');
    expect(pre.q_err).toBeLessThan(1e-4);
    expect(pre.k_err).toBeLessThan(1e-4);
    // The rotated vectors written beside them reproduce the model's attention; the unrotated ones do not.
    expect(pre.soft).toBeLessThan(1e-5);
    expect(pre.soft_own).toBeGreaterThan(1e-3);
  });

  it('refuses an unsupported architecture and an unknown repository in words', async () => {
    const t5 = await cli('extract', '--model-id', 'qkviz-test/t5', '--input', join(work, 'corpus.txt'), '--out', join(work, 't5'));
    expect(t5.code).toBe(1);
    expect(t5.stderr).toMatch(/model_type "t5" \(T5ForConditionalGeneration\) is not supported\. QKViz converts: bert/);
    const missing = await cli('extract', '--model-id', 'nobody/nothing', '--input', join(work, 'corpus.txt'), '--out', join(work, 'x'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/There is no model "nobody\/nothing"/);
  });
});
