"""qkviz.run_on_ray on a real local Ray cluster this test starts (`ray start --head` and a second
node, three worker processes): the merged bundle equals a single-process run on the same corpus
(tokens and vectors bit for bit; normalizations, attention figures and PCA layouts within 1e-6),
a worker killed mid-run has its shard retried with no sentence lost (counted), and the page's
reader opens the result."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import numpy as np

import qkviz
from test_bundle import ROOT, dump

MODEL = ROOT / "public" / "models" / "all-MiniLM-L6-v2"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def corpus(count):
    lines = [l.strip() for l in (ROOT / "public" / "corpus" / "default.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    return lines[:count]


class LocalCluster:
    """`ray start --head` plus one more node on this machine, stopped (and its files removed) at the end."""

    def __init__(self, head_cpus=2, node_cpus=1):
        # Short: Ray's socket paths live under it.
        self.temp = tempfile.mkdtemp(prefix="qr", dir="/tmp")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
        head = ["--head", f"--port={self.port}", f"--temp-dir={self.temp}", "--include-dashboard=false"]
        self._ray("start", *head, f"--num-cpus={head_cpus}", "--node-ip-address=127.0.0.1", "--disable-usage-stats")
        self._ray("start", f"--address={self.address}", f"--num-cpus={node_cpus}", "--node-ip-address=127.0.0.1", "--disable-usage-stats")

    def _ray(self, *args):
        subprocess.run([str(BIN / "ray"), *args], check=True, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)

    def stop(self):
        subprocess.run([str(BIN / "ray"), "stop", "--force"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        shutil.rmtree(self.temp, ignore_errors=True)


def single_process(texts, out):
    """The same corpus in this process, no Ray: extracted whole, analysed in one go, written by write_bundle."""
    from qkviz.distributed import OnnxExtractor, hashed_sample

    ex = OnnxExtractor(MODEL)
    tokenized = [ex.tokenize(t) for t in texts]
    ids = [t[0] for t in tokenized]
    sample = hashed_sample(texts)
    queries, keys, attention = ex.run(ids, sample)
    qkviz.write_bundle(
        out,
        [t[1] for t in tokenized],
        np.concatenate(queries, axis=2),
        np.concatenate(keys, axis=2),
        ids=ids,
        texts=texts,
        model=ex.name,
        attention=ex.attention,
        attention_sample=attention,
        layouts=[("optimized", "pca", 3), ("paper", "pca", 2)],
    )
    return qkviz.read_bundle(out)


class RunsOnRay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import ray

        cls.dir = Path(tempfile.mkdtemp(prefix="qkviz-ray-test-"))
        cls.texts = corpus(240)
        cls.single = single_process(cls.texts, cls.dir / "single.qkviz")
        cls.cluster = LocalCluster()
        os.environ["RAY_AUTH_MODE"] = "disabled"
        ray.init(address=cls.cluster.address, include_dashboard=False, log_to_driver=False)
        for _ in range(60):
            if ray.cluster_resources().get("CPU", 0) >= 3:
                break
            time.sleep(1)

    @classmethod
    def tearDownClass(cls):
        import ray

        ray.shutdown()
        cls.cluster.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_cluster_has_two_nodes_and_three_workers(self):
        import ray

        self.assertEqual(len([n for n in ray.nodes() if n["Alive"]]), 2)
        self.assertEqual(ray.cluster_resources()["CPU"], 3)

    def test_merged_bundle_equals_a_single_process_run(self):
        seen = []
        report = qkviz.run_on_ray(
            self.texts, str(MODEL), self.dir / "ray.qkviz", shards=9, workers=3, layouts=[("optimized", "pca", 3), ("paper", "pca", 2)], on_shard=seen.append
        )
        # The shards ran on more than one worker process.
        self.assertGreater(len({r.pid for r in seen}), 1)
        ray_run, single = qkviz.read_bundle(report.path), self.single
        self.assertEqual((report.sentences, report.shards), (240, 9))
        self.assertEqual(ray_run.sentences, self.texts)
        self.assertEqual(ray_run.ids, single.ids)
        self.assertEqual(ray_run.tokens, single.tokens)
        self.assertEqual(report.tokens, single.token_count)
        self.assertEqual(np.asarray(ray_run.queries).tobytes(), np.asarray(single.queries).tobytes())
        self.assertEqual(np.asarray(ray_run.keys).tobytes(), np.asarray(single.keys).tobytes())
        self.assertEqual(ray_run.meta["data"]["attentionSample"], single.meta["data"]["attentionSample"])
        for mode in ("raw", "paper", "optimized"):
            for a, b in zip(ray_run.meta["analysis"]["params"][mode], single.meta["analysis"]["params"][mode]):
                self.assertLess(abs(a["scale"] - b["scale"]) / b["scale"], 1e-6, mode)
                self.assertLess(np.abs(np.array(a["translation"]) - b["translation"]).max(), 1e-6 * max(1.0, np.abs(b["translation"]).max()), mode)
        for a, b in zip(ray_run.meta["analysis"]["heads"], single.meta["analysis"]["heads"]):
            self.assertAlmostEqual(a["attention"]["entropy"], b["attention"]["entropy"], delta=1e-9)
            self.assertAlmostEqual(a["attention"]["specialShare"], b["attention"]["specialShare"], delta=1e-9)
            self.assertAlmostEqual(a["check"]["maxAbsError"], b["check"]["maxAbsError"], delta=1e-12)
        for a, b in zip(ray_run.layouts, single.layouts):
            self.assertEqual((a["mode"], a["dims"]), (b["mode"], b["dims"]))
            self.assertLess(np.abs(np.asarray(a["coords"]) - np.asarray(b["coords"])).max(), 1e-6)
        self.assertLess(ray_run.meta["attentionError"], 1e-5)
        # The head map's distances, on the same hashed sample of sentences.
        self.assertEqual(ray_run.meta["similarities"], single.meta["similarities"])
        for kind in ("attention", "geometry"):
            self.assertLess(np.abs(np.asarray(ray_run.similarities[kind]) - np.asarray(single.similarities[kind])).max(), 1e-6, kind)
        # The page's reader opens it.
        ok, message = dump("run", report.path, self.dir / "ray-page")
        self.assertTrue(ok, message)
        self.assertEqual(json.loads((self.dir / "ray-page" / "run.json").read_text())["sentences"], self.texts)

    def test_a_killed_worker_has_its_shard_retried_and_no_sentence_is_lost(self):
        work = self.dir / "kill-work"
        killed = []

        def kill_first_worker():
            attempts = work / "attempts"
            deadline = time.time() + 120
            while time.time() < deadline and not killed:
                for f in sorted(attempts.glob("shard-*")) if attempts.exists() else []:
                    pid = int(f.read_text())
                    os.kill(pid, signal.SIGKILL)
                    killed.append((f.name, pid))
                    return
                time.sleep(0.02)

        killer = threading.Thread(target=kill_first_worker)
        killer.start()
        report = qkviz.run_on_ray(self.texts, str(MODEL), self.dir / "killed.qkviz", shards=6, workers=3, work_dir=work)
        killer.join()
        self.assertEqual(len(killed), 1, "a worker was killed mid-run")
        shard = int(killed[0][0].split("-")[1])
        self.assertIn(shard, report.retried)
        run = qkviz.read_bundle(report.path)
        # Every sentence counted back, each once, in order, with the single-process tokens and vectors.
        self.assertEqual(len(run.sentences), len(self.texts))
        self.assertEqual(run.sentences, self.texts)
        self.assertEqual(run.token_count, self.single.token_count)
        self.assertEqual(np.asarray(run.queries).tobytes(), np.asarray(self.single.queries).tobytes())

    def test_a_pytorch_model_through_capture_on_every_worker(self):
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForCausalLM  # noqa: F401
        except ImportError:
            self.skipTest("torch and transformers are not installed")
        fixture = str(ROOT / "tests" / "fixtures" / "hub" / "qkviz-test" / "tiny-llama")

        def load():
            from transformers import AutoModelForCausalLM, AutoTokenizer

            return AutoModelForCausalLM.from_pretrained(fixture, attn_implementation="eager"), AutoTokenizer.from_pretrained(fixture)

        texts = self.texts[:30]
        report = qkviz.run_on_ray(texts, load, self.dir / "torch.qkviz", shards=5, workers=3)
        ray_run = qkviz.read_bundle(report.path)
        model, tokenizer = load()
        captured = qkviz.capture(model, tokenizer, texts)
        self.assertEqual(ray_run.ids, captured.ids)
        self.assertEqual((ray_run.rotary, ray_run.causal, ray_run.kv_heads), ("post", True, captured.kv_heads))
        np.testing.assert_array_equal(np.asarray(ray_run.queries), captured.queries)
        np.testing.assert_array_equal(np.asarray(ray_run.keys), captured.keys)
        self.assertLess(ray_run.meta["attentionError"], 1e-5)
        self.assertIn("transformers", ray_run.meta["manifest"]["source"]["library"])

    def test_a_corpus_past_the_full_limit_gets_a_views_bundle_the_page_opens(self):
        report = qkviz.run_on_ray(self.texts[:40], str(MODEL), self.dir / "views.qkviz", shards=4, workers=3, full_limit=1024)
        self.assertEqual(report.contents, "views")
        run = qkviz.read_bundle(report.path)
        self.assertTrue(run.views_only)
        self.assertEqual(run.layouts[0]["coords"].shape, (6, 12, 2 * run.token_count, 3))
        ok, message = dump("run", report.path, self.dir / "views-page")
        self.assertTrue(ok, message)

    def test_empty_corpus_is_refused(self):
        with self.assertRaisesRegex(ValueError, "empty"):
            qkviz.run_on_ray([], str(MODEL), self.dir / "empty.qkviz")


if __name__ == "__main__":
    unittest.main()
