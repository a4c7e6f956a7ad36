"""qkviz (Python) against the page's own readers: bundles the CLI writes (the page's bundle code)
read in Python bit for bit, attention recomputed in numpy from the read Q/K equal to the model's
own, refusals, and containers written by Python read by the page's reader (tests/python/dumpBundle.ts)."""

import json
import math
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import numpy as np

import qkviz

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = [
    "The capybara is the largest living rodent.",
    "It lives in savannas and dense forests near water.",
    "Capybaras are social animals, found in groups of ten to twenty.",
    "A group of capybaras rested by the river while the birds sat on their backs.",
    "  Edge spaces and a\ttab stay as given.  ",
]


def cli(*args):
    subprocess.run(["node", str(ROOT / "scripts" / "qkviz.mjs"), *args, "--quiet"], check=True, cwd=ROOT)


def dump(kind, path, out):
    """The page's reader run on `path`: (ok, its error message)."""
    r = subprocess.run([str(ROOT / "node_modules" / ".bin" / "tsx"), str(ROOT / "tests" / "python" / "dumpBundle.ts"), kind, str(path), str(out)], cwd=ROOT, capture_output=True, text=True)
    return r.returncode == 0, r.stderr.strip()


def floats(path):
    return np.fromfile(path, dtype="<f4")


class BundlesFromThePage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="qkviz-py-"))
        corpus = cls.dir / "corpus.jsonl"
        corpus.write_text("".join(json.dumps({"text": s}) + "\n" for s in SENTENCES))
        cls.bundles = {}
        for name, extra in [("float32", []), ("float16", ["--float16"])]:
            path = cls.dir / f"{name}.qkviz"
            cli("bundle", "--input", str(corpus), "--out", str(path), "--methods", "pca", "--dims", "2,3", *extra)
            ok, message = dump("run", path, cls.dir / f"{name}-page")
            assert ok, message
            cls.bundles[name] = path

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_reads_every_array_bit_for_bit_as_the_page_does(self):
        for name, path in self.bundles.items():
            run = qkviz.read_bundle(path)
            page = self.dir / f"{name}-page"
            seen = json.loads((page / "run.json").read_text())
            self.assertEqual((run.layers, run.heads, run.head_dim), (6, 12, 32))
            self.assertEqual(run.tokens, seen["tokens"])
            self.assertEqual(run.sentences, SENTENCES)
            self.assertEqual(run.queries.dtype, np.dtype("<f2" if name == "float16" else "<f4"))
            for layer in range(run.layers):
                for head in range(run.heads):
                    cell = layer * run.heads + head
                    q, k = floats(page / f"q{cell}.bin"), floats(page / f"k{cell}.bin")
                    self.assertEqual(run.query(layer, head).tobytes(), q.tobytes(), f"{name} queries L{layer} H{head}")
                    self.assertEqual(run.key(layer, head).tobytes(), k.tobytes(), f"{name} keys L{layer} H{head}")
            self.assertEqual([(l["mode"], l["method"], l["dims"]) for l in run.layouts], [(l["mode"], l["method"], l["dims"]) for l in seen["layouts"]])
            for i, layout in enumerate(run.layouts):
                self.assertEqual(layout["coords"].shape, (6, 12, 2 * run.token_count, layout["dims"]))
                self.assertEqual(np.ascontiguousarray(layout["coords"]).tobytes(), (page / f"layout{i}.bin").read_bytes())
            for kind, values in run.similarities.items():
                self.assertEqual(np.ascontiguousarray(values).tobytes(), (page / f"similarity-{kind}.bin").read_bytes())
            figures = run.figures(2, 5, "paper")
            page_figures = seen["heads"][2 * 12 + 5]["metrics"]["paper"]
            self.assertEqual(set(figures) - {"attention"}, set(page_figures))

    def test_attention_recomputed_from_the_read_vectors_equals_the_models_own(self):
        run = qkviz.read_bundle(self.bundles["float32"])
        worst = 0.0
        checked = 0
        for layer in range(run.layers):
            for head in range(run.heads):
                for sentence, model in run.model_attention(layer, head).items():
                    worst = max(worst, float(np.abs(run.attention(layer, head, sentence) - model).max()))
                    checked += 1
        self.assertEqual(checked, 72 * len(SENTENCES))
        self.assertLess(worst, 1e-5)
        # Not a tautology: the wrong scale moves it far.
        sentence, model = next(iter(run.model_attention(0, 0).items()))
        run.attention_specs = [{"scale": 1.0}] * run.layers
        self.assertGreater(float(np.abs(run.attention(0, 0, sentence) - model).max()), 1e-2)

    def test_says_what_is_wrong_with_a_cut_changed_newer_or_foreign_file(self):
        good = self.bundles["float32"].read_bytes()
        cases = {
            "cut": (good[:-5000], "truncated"),
            "changed": (good[:-64] + bytes([good[-64] ^ 0x10]) + good[-63:], "corrupt"),
            "newer": (good[:8] + (3).to_bytes(4, "little") + good[12:], "version"),
            "notes": (b"these are my notes, not a bundle", "not-a-bundle"),
        }
        for name, (data, code) in cases.items():
            path = self.dir / f"{name}.qkviz"
            path.write_bytes(data)
            with self.assertRaises(qkviz.BundleError, msg=name) as caught:
                qkviz.read_bundle(path)
            self.assertEqual(caught.exception.code, code, name)


class ContainersFromPython(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="qkviz-py-"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_the_page_reads_what_python_writes_bit_for_bit(self):
        rng = np.random.default_rng(7)
        arrays = {
            "queries": (rng.standard_normal((2, 3, 5, 4)).astype(np.float32), 6),
            "half": rng.standard_normal((7, 3)).astype(np.float16),
            "ids": np.arange(-3, 10, dtype=np.int32),
            "odd": rng.standard_normal(3).astype(np.float32),
            "empty": np.zeros(0, np.float32),
        }
        meta = {"label": "naïve ☃", "figure": float("nan"), "far": [float("inf"), -float("inf"), 1.5], "counts": np.arange(3)}
        path = self.dir / "python.qkviz"
        size = qkviz.write_container(path, meta, arrays)
        self.assertEqual(size, path.stat().st_size)
        ok, message = dump("container", path, self.dir / "page")
        self.assertTrue(ok, message)
        seen = json.loads((self.dir / "page" / "meta.json").read_text())
        self.assertEqual(seen["version"], qkviz.BUNDLE_VERSION)
        self.assertEqual(seen["meta"]["label"], "naïve ☃")
        self.assertEqual(seen["meta"]["far"][2], 1.5)
        self.assertEqual(seen["meta"]["counts"], [0, 1, 2])
        for name, spec in arrays.items():
            array = spec[0] if isinstance(spec, tuple) else spec
            self.assertEqual((self.dir / "page" / f"{name}.bin").read_bytes(), array.tobytes(), name)
        # And back: Python reads it with its non-finite numbers restored.
        back = qkviz.read_container(path)
        self.assertTrue(math.isnan(back.meta["figure"]))
        self.assertEqual(back.meta["far"][:2], [math.inf, -math.inf])
        self.assertEqual(back.arrays["queries"].tobytes(), arrays["queries"][0].tobytes())

    def test_a_page_bundle_rewritten_by_python_opens_in_the_pages_run_reader(self):
        corpus = self.dir / "corpus.txt"
        corpus.write_text("\n".join(SENTENCES[:3]) + "\n")
        original = self.dir / "page.qkviz"
        cli("bundle", "--input", str(corpus), "--out", str(original))
        source = qkviz.read_container(original)
        copy = self.dir / "python.qkviz"
        chunked = {i["name"]: len(i["chunks"]) for i in source.infos if "chunks" in i}
        qkviz.write_container(copy, source.meta, {n: (np.asarray(a), chunked[n]) if n in chunked else np.asarray(a) for n, a in source.arrays.items()})
        for path, out in [(original, "a"), (copy, "b")]:
            ok, message = dump("run", path, self.dir / out)
            self.assertTrue(ok, message)
        files = sorted(p.name for p in (self.dir / "a").iterdir())
        self.assertEqual(files, sorted(p.name for p in (self.dir / "b").iterdir()))
        for name in files:
            self.assertEqual((self.dir / "a" / name).read_bytes(), (self.dir / "b" / name).read_bytes(), name)


if __name__ == "__main__":
    unittest.main()
