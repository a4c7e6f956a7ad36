"""The page's own extraction of a fixture model, for tests/python/test_capture.py to compare with.

`qkviz extract` (scripts/qkviz.mjs, the same lib/ engine as the page) reads converted model
folders or hub ids, not a raw checkpoint folder, so the fixture is served to it by a local
stand-in for the Hugging Face hub (HF_ENDPOINT): the URL layout {repo}/resolve/{revision}/{file},
X-Repo-Commit, Range requests and the hub's 404s. The CLI converts the checkpoint to ONNX
(cached under .cache/capture-tests/hub) and writes tokens.json, queries.npy and keys.npy.
Those outputs are cached under .cache/capture-tests/extract/<key>, the key hashing the
checkpoint's files, the corpus and lib/'s sources, so a rerun with nothing changed runs no Node.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "hub" / "qkviz-test"
CACHE = ROOT / ".cache" / "capture-tests"
CLI = ROOT / "scripts" / "qkviz.mjs"
# Bumped when what is cached changes shape.
CACHE_FORMAT = "1"


@dataclass
class PageExtraction:
    """What `qkviz extract` wrote: per-sentence ids and tokens, and Q/K as float64 [layers, heads, N, d]
    (keys repeated per query head, as the CLI writes them)."""

    meta: dict
    ids: List[List[int]]
    tokens: List[List[str]]
    queries: np.ndarray
    keys: np.ndarray


def _digest(paths: List[Path], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for p in sorted(paths, key=str):
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _lib_digest() -> str:
    """The page's extraction code as it is now: a change to lib/ reruns the CLI."""
    return _digest([p for p in (ROOT / "lib").rglob("*.ts")] + [ROOT / "scripts" / "cli.ts"])


def _checkpoint_files(folder: Path) -> Dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


class _Hub(BaseHTTPRequestHandler):
    """GET/HEAD /{repo}/resolve/{revision}/{file} with Range, as lib/model/hub.ts reads the hub."""

    repos: Dict[str, Tuple[str, Dict[str, bytes]]] = {}

    def log_message(self, *_args) -> None:  # quiet
        pass

    def _refuse(self, status: int, code: str) -> None:
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, body: bool) -> None:
        path = self.path.split("?")[0].lstrip("/")
        if "/resolve/" not in path:
            return self._refuse(404, "RepositoryNotFound")
        repo, rest = path.split("/resolve/", 1)
        revision, _, file = rest.partition("/")
        if repo not in self.repos:
            return self._refuse(401, "RepositoryNotFound")
        commit, files = self.repos[repo]
        if revision not in ("main", commit):
            return self._refuse(404, "RevisionNotFound")
        data = files.get(file)
        if data is None:
            return self._refuse(404, "EntryNotFound")
        start, end = 0, len(data) - 1
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes="):
            a, _, b = ranged[6:].partition("-")
            start = int(a)
            end = min(end, int(b)) if b else end
        self.send_response(206 if ranged else 200)
        self.send_header("X-Repo-Commit", commit)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end + 1 - start))
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.end_headers()
        if body:
            self.wfile.write(data[start : end + 1])

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(False)


def _run_cli(name: str, corpus: Path, out: Path) -> None:
    folder = FIXTURES / name
    files = _checkpoint_files(folder)
    commit = hashlib.sha1(b"".join(hashlib.sha1(files[k]).digest() + k.encode() for k in sorted(files))).hexdigest()
    repo = f"qkviz-test/{name}"

    class Handler(_Hub):
        repos = {repo: (commit, files)}

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}", "QKVIZ_HUB_CACHE": str(CACHE / "hub")}
        env.pop("HF_TOKEN", None)
        cmd = ["node", str(CLI), "extract", "--input", str(corpus), "--out", str(out), "--model-id", repo, "--quiet"]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"qkviz extract of {name} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    finally:
        server.shutdown()
        server.server_close()


def page_extraction(name: str, sentences: List[str]) -> PageExtraction:
    """The CLI's extraction of fixture `name` over `sentences` (one a line), cached."""
    corpus_text = "".join(s + "\n" for s in sentences)
    key = _digest([p for p in (FIXTURES / name).iterdir() if p.is_file()], CACHE_FORMAT + _lib_digest() + name + "\0" + corpus_text)[:24]
    out = CACHE / "extract" / f"{name}-{key}"
    if not (out / "keys.npy").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            corpus = Path(tmp) / "corpus.txt"
            corpus.write_text(corpus_text, encoding="utf-8")
            written = Path(tmp) / "out"
            _run_cli(name, corpus, written)
            shutil.rmtree(out, ignore_errors=True)
            written.rename(out)
    meta = json.loads((out / "tokens.json").read_text(encoding="utf-8"))
    return PageExtraction(
        meta=meta,
        ids=[s["ids"] for s in meta["sentences"]],
        tokens=[s["tokens"] for s in meta["sentences"]],
        queries=np.load(out / "queries.npy").astype(np.float64),
        keys=np.load(out / "keys.npy").astype(np.float64),
    )


# The fixtures TransformerLens converts from a local folder, with the architecture its converters know them by.
LENS_ARCHITECTURES = {
    "tiny-gpt2": "GPT2LMHeadModel",
    "tiny-llama": "LlamaForCausalLM",
    "tiny-pythia": "GPTNeoXForCausalLM",
    "tiny-opt": "OPTForCausalLM",
    "tiny-mistral": "MistralForCausalLM",
    "tiny-qwen2": "Qwen2ForCausalLM",
    "tiny-qwen3": "Qwen3ForCausalLM",
}


def lens_model(name: str, workdir: Path) -> Any:
    """A HookedTransformer of fixture `name`, built offline: the checkpoint copied under a neutral folder name
    (TransformerLens guesses some architectures from the name and would then fetch their config from the hub)
    with its causal-LM architecture, converted by TransformerLens's own config and weight converters, and
    loaded with no folding or centring, so Q and K are the checkpoint's."""
    import torch
    import transformers
    from transformer_lens import HookedTransformer
    from transformer_lens import loading_from_pretrained as loading

    folder = workdir / "tl-model"
    shutil.copytree(FIXTURES / name, folder, ignore=shutil.ignore_patterns("reference"))
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = [LENS_ARCHITECTURES[name]]
    if "n_positions" in config:
        config.setdefault("n_ctx", config["n_positions"])  # TransformerLens reads GPT-2's n_ctx, which transformers 5 dropped
    (folder / "config.json").write_text(json.dumps(config))
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    hf = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    cfg = loading.get_pretrained_model_config(str(folder), device="cpu", dtype=torch.float32, fold_ln=False)
    model = HookedTransformer(cfg, tokenizer=tokenizer)
    state = loading.get_pretrained_state_dict(str(folder), cfg, hf_model=hf, dtype=torch.float32)
    model.load_and_process_state_dict(
        state, fold_ln=False, center_writing_weights=False, center_unembed=False, fold_value_biases=False, refactor_factored_attn_matrices=False
    )
    return model.eval()
