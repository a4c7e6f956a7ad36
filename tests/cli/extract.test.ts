// `qkviz extract --attention` writes files numpy can load with the documented shapes (value
// norms included), and
// numpy's own softmax of the written Q/K reproduces the model's attention it wrote.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/models';

const CHECK = `
import json, sys
import numpy as np
out = sys.argv[1]
meta = json.load(open(f"{out}/tokens.json"))
q = np.load(f"{out}/queries.npy"); k = np.load(f"{out}/keys.npy"); a = np.load(f"{out}/attention.npy"); vn = np.load(f"{out}/value_norms.npy")
L, H, D = meta["layers"], meta["heads"], meta["headDim"]
N = sum(len(s["ids"]) for s in meta["sentences"])
S = sum(len(s["ids"]) ** 2 for s in meta["sentences"])
err = 0.0
for l in range(L):
    for h in range(H):
        off = 0
        for s in meta["sentences"]:
            n, st = len(s["ids"]), s["start"]
            qs = q[l, h, st:st + n].astype(np.float64); ks = k[l, h, st:st + n].astype(np.float64)
            z = qs @ ks.T / np.sqrt(D); p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
            err = max(err, float(np.abs(p - a[l, h, off:off + n * n].reshape(n, n)).max()))
            off += n * n
print(json.dumps({"q": list(q.shape), "k": list(k.shape), "a": list(a.shape), "vn": list(vn.shape), "vnPositive": bool((vn > 0).all()), "dtype": str(q.dtype), "N": N, "S": S,
                  "L": L, "H": H, "D": D, "model": meta["model"], "tokens": meta["sentences"][1]["tokens"],
                  "starts": [s["start"] for s in meta["sentences"]], "err": err}))
`;

describe('qkviz extract', () => {
  it('writes tokens.json, queries.npy, keys.npy and (--attention) attention.npy that numpy loads with the documented shapes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qkviz-cli-'));
    const input = join(dir, 'corpus.txt');
    writeFileSync(input, 'The brown capybara is sleeping now.\n\nShe fed it a slice of melon.\nWhy?\n');
    const out = join(dir, 'out');
    const cli = spawnSync(process.execPath, [join(ROOT, 'scripts', 'qkviz.mjs'), 'extract', '--attention', '--input', input, '--out', out], {
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stderr).toMatch(/skipped 1 blank line/);
    const py = spawnSync('python3', ['-c', CHECK, out], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const r = JSON.parse(py.stdout);
    expect(r).toMatchObject({ model: 'all-MiniLM-L6-v2', L: 6, H: 12, D: 32, dtype: 'float32', N: 11 + 11 + 4, S: 121 + 121 + 16 });
    expect(r.q).toEqual([6, 12, r.N, 32]);
    expect(r.k).toEqual([6, 12, r.N, 32]);
    expect(r.a).toEqual([6, 12, r.S]);
    expect(r.vn).toEqual([6, 12, r.N]);
    expect(r.vnPositive).toBe(true);
    expect(r.starts).toEqual([0, 11, 22]);
    expect(r.tokens).toEqual(['[CLS]', 'she', 'fed', 'it', 'a', 'slice', 'of', 'mel', '##on', '.', '[SEP]']);
    expect(r.err).toBeLessThanOrEqual(1e-5);
  });

  it('projects an extraction (coords.npy [layers, heads, 2N, dims] in the unit ball, projection.json) and scores it (figures CSV)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qkviz-cli-'));
    writeFileSync(
      join(dir, 'c.txt'),
      'The brown capybara is sleeping now.\nShe fed it a slice of melon.\nWhy?\nThe cat sat on the mat, and the dog sat on the rug.\n',
    );
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'qkviz.mjs'), ...args, '--quiet'], { encoding: 'utf8' });
    expect(cli('extract', '--input', join(dir, 'c.txt'), '--out', join(dir, 'x')).status).toBe(0);
    for (const [method, dims] of [
      ['pca', '2'],
      ['umap', '3'],
    ]) {
      const out = join(dir, `${method}${dims}`);
      const run = cli('project', '--in', join(dir, 'x'), '--method', method, '--dims', dims, '--mode', 'optimized', '--seed', '3', '--out', out);
      expect(run.status, run.stderr).toBe(0);
      const py = spawnSync(
        'python3',
        [
          '-c',
          `import json, numpy as np
c = np.load("${out}/coords.npy"); j = json.load(open("${out}/projection.json"))
print(json.dumps({"shape": list(c.shape), "dtype": str(c.dtype), "maxnorm": float(np.linalg.norm(c, axis=-1).max()), "method": j["method"], "dims": j["dims"], "mode": j["mode"], "seed": j["seed"], "heads": len(j["heads"])}))`,
        ],
        { encoding: 'utf8' },
      );
      expect(py.status, py.stderr).toBe(0);
      const r = JSON.parse(py.stdout);
      expect(r).toMatchObject({ shape: [6, 12, 2 * 43, Number(dims)], dtype: 'float32', method, dims: Number(dims), mode: 'optimized', seed: 3, heads: 72 });
      expect(r.maxnorm).toBeLessThanOrEqual(1 + 1e-5);
      expect(r.maxnorm).toBeGreaterThan(0.99);
    }
    // figures: the CSV the app exports, and a summary whose counts the CSV's columns reproduce.
    const figures = spawnSync(process.execPath, [join(ROOT, 'scripts', 'qkviz.mjs'), 'figures', '--in', join(dir, 'x'), '--out', join(dir, 'f.csv')], {
      encoding: 'utf8',
    });
    expect(figures.status, figures.stderr).toBe(0);
    const summary = figures.stdout.match(/weightedDistanceRatio\toptimized\t(\d+)\/72/);
    const py = spawnSync(
      'python3',
      [
        '-c',
        `import csv
rows = list(csv.DictReader(open("${join(dir, 'f.csv')}")))
print(len(rows), sum(float(r["optimized_weighted_distance_ratio"]) < float(r["raw_weighted_distance_ratio"]) for r in rows))`,
      ],
      { encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    expect(py.stdout.trim()).toBe(`72 ${summary![1]}`);

    const bad = cli('project', '--in', join(dir, 'x'), '--method', 'tsne', '--out', join(dir, 'y'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--method must be pca or umap, not tsne/);
  });

  it('fails with a clear message on an empty corpus and on a missing model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qkviz-cli-'));
    writeFileSync(join(dir, 'empty.txt'), '\n\n');
    const empty = spawnSync(process.execPath, [join(ROOT, 'scripts', 'qkviz.mjs'), 'extract', '--input', join(dir, 'empty.txt'), '--out', join(dir, 'o')], {
      encoding: 'utf8',
    });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/the corpus is empty/);
    writeFileSync(join(dir, 'one.txt'), 'Hello.\n');
    const missing = spawnSync(
      process.execPath,
      [join(ROOT, 'scripts', 'qkviz.mjs'), 'extract', '--input', join(dir, 'one.txt'), '--out', join(dir, 'o'), '--model', join(dir, 'nope')],
      { encoding: 'utf8' },
    );
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/qkviz-model\.json is missing or unreadable.*npm run setup/);
  });
});
