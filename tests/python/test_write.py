"""qkviz.write_bundle against the page: the normalizations, attention figures, check and PCA layouts
Python computes (numpy, qkviz.analysis) equal the page's own for the same queries and keys (a
bundle the CLI wrote with the page's code), and a bundle Python writes is read by the page's
reader bit for bit (tests/python/dumpBundle.ts)."""

import json
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np

import qkviz
from qkviz.analysis import normalizations
from qkviz.write import analyze
from test_bundle import SENTENCES, cli, dump, floats


def model_sample(run):
    """The page's kept model attention, as {sentence: [layers, heads, n, n]}."""
    return {
        s: np.stack([np.stack([run.model_attention(l, h)[s] for h in range(run.heads)]) for l in range(run.layers)])
        for s in run.meta["data"]["attentionSample"]
    }


class WrittenInPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="qkviz-write-"))
        corpus = cls.dir / "corpus.jsonl"
        corpus.write_text("".join(json.dumps({"text": s}) + "\n" for s in SENTENCES))
        cls.page = {}
        for mode, dims in [("optimized", 3), ("paper", 2)]:
            path = cls.dir / f"page-{mode}.qkviz"
            cli("bundle", "--input", str(corpus), "--out", str(path), "--methods", "pca", "--dims", str(dims), "--mode", mode)
            cls.page[mode] = qkviz.read_bundle(path)
        run = cls.page["optimized"]
        cls.sample = model_sample(run)
        cls.path = cls.dir / "python.qkviz"
        qkviz.write_bundle(
            cls.path,
            run.tokens,
            run.queries,
            run.keys,
            ids=run.ids,
            texts=run.sentences,
            model=run.model,
            attention=run.attention_specs,
            attention_sample=cls.sample,
            layouts=[("optimized", "pca", 3), ("paper", "pca", 2)],
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_normalizations_and_attention_figures_equal_the_pages(self):
        run = self.page["optimized"]
        sums, key_norms = analyze(np.asarray(run.queries), np.asarray(run.keys), [len(t) for t in run.tokens], run.attention_specs, run.causal, self.sample)
        ours = normalizations(sums, key_norms)
        params = run.meta["analysis"]["params"]
        for mode in ("raw", "paper", "optimized"):
            for cell in range(run.layers * run.heads):
                page = params[mode][cell]
                size = max(np.abs(ours["paper"][cell].translation).max(), 1e-12)
                # The page sums attention in float32 for the optimized search's weights: 1e-6 relative, not bit for bit.
                self.assertLess(np.abs(np.array(page["translation"]) - ours[mode][cell].translation).max() / size, 1e-6, f"{mode} translation, head {cell}")
                self.assertLess(abs(page["scale"] - ours[mode][cell].scale) / page["scale"], 1e-6, f"{mode} scale, head {cell}")
        for cell, report in enumerate(run.meta["analysis"]["heads"]):
            self.assertAlmostEqual(report["attention"]["entropy"], sums.entropy[cell] / sums.n, places=9)
            self.assertAlmostEqual(report["attention"]["specialShare"], sums.special[cell] / sums.n, places=6)
        # The check: both compare the recomputed attention with the same model attention, to float32 rounding.
        self.assertLess(abs(run.meta["analysis"]["attentionCheck"]["maxAbsError"] - np.nanmax(sums.max_abs)), 1e-6)
        self.assertLess(np.nanmax(sums.max_abs), 1e-5)

    def test_pca_layouts_equal_the_pages(self):
        ours = qkviz.read_bundle(self.path)
        for i, mode in enumerate(("optimized", "paper")):
            page = np.asarray(self.page[mode].layouts[0]["coords"])
            mine = np.asarray(ours.layouts[i]["coords"])
            self.assertEqual(mine.shape, page.shape)
            # Points in the unit ball: float32 rounding apart.
            self.assertLess(np.abs(mine - page).max(), 1e-5, mode)

    def test_head_similarities_equal_the_pages(self):
        # A corpus this small is compared whole by both: the same rows and tokens, so the same distances.
        ours, page = qkviz.read_bundle(self.path), self.page["optimized"]
        self.assertEqual(ours.meta["similarities"], page.meta["similarities"])
        for kind in ("attention", "geometry"):
            self.assertLess(np.abs(np.asarray(ours.similarities[kind]) - np.asarray(page.similarities[kind])).max(), 1e-6, kind)

    def test_the_pages_reader_reads_it_bit_for_bit(self):
        ok, message = dump("run", self.path, self.dir / "read")
        self.assertTrue(ok, message)
        run = qkviz.read_bundle(self.path)
        seen = json.loads((self.dir / "read" / "run.json").read_text())
        self.assertEqual(seen["tokens"], run.tokens)
        self.assertEqual(seen["sentences"], SENTENCES)
        for layer in range(run.layers):
            for head in range(run.heads):
                cell = layer * run.heads + head
                self.assertEqual(floats(self.dir / "read" / f"q{cell}.bin").tobytes(), run.query(layer, head).tobytes())
                self.assertEqual(floats(self.dir / "read" / f"k{cell}.bin").tobytes(), run.key(layer, head).tobytes())
        for i, layout in enumerate(run.layouts):
            self.assertEqual((self.dir / "read" / f"layout{i}.bin").read_bytes(), np.ascontiguousarray(layout["coords"]).tobytes())
        # And the vectors are the page's own, bit for bit, after the round trip through Python.
        page = self.page["optimized"]
        self.assertEqual(np.asarray(run.queries).tobytes(), np.asarray(page.queries).tobytes())

    def test_float16_and_grouped_keys(self):
        run = self.page["optimized"]
        # Two query heads a key head (grouped-query attention): keys [layers, 6, N, d].
        keys = np.asarray(run.keys)[:, ::2]
        path = self.dir / "gqa16.qkviz"
        qkviz.write_bundle(path, run.tokens, run.queries, keys, dtype="float16", layouts=[("raw", "pca", 2)])
        ok, message = dump("run", path, self.dir / "gqa16")
        self.assertTrue(ok, message)
        back = qkviz.read_bundle(path)
        self.assertEqual((back.kv_heads, back.keys.dtype), (6, np.dtype("<f2")))
        for head in (0, 1, 2, 11):
            want = keys[3, head // 2].astype(np.float16).astype(np.float32)
            np.testing.assert_array_equal(back.key(3, head), want)
            np.testing.assert_array_equal(floats(self.dir / "gqa16" / f"k{3 * 12 + head}.bin").reshape(want.shape), want)

    def test_refuses_vectors_that_do_not_fit(self):
        run = self.page["optimized"]
        with self.assertRaisesRegex(ValueError, "tokens"):
            qkviz.write_bundle(self.dir / "bad.qkviz", run.tokens[:-1], run.queries, run.keys)
        with self.assertRaisesRegex(ValueError, "kv_heads"):
            qkviz.write_bundle(self.dir / "bad.qkviz", run.tokens, run.queries, np.asarray(run.keys)[:, :5])
        with self.assertRaisesRegex(ValueError, "UMAP"):
            qkviz.write_bundle(self.dir / "bad.qkviz", run.tokens, run.queries, run.keys, layouts=[("raw", "umap", 2)])


if __name__ == "__main__":
    unittest.main()
