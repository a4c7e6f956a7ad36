"""Runs past one machine on Ray: a corpus cut into shards of sentences, each extracted by a Ray task
(the ONNX graph QKViz's converters write, through onnxruntime; or a PyTorch model through
qkviz.capture), the exact parts reduced, and one bundle the page opens written from the shards.

What is exact and how (qkviz.analysis): attention never crosses a sentence, so every head's sums —
the optimized normalization's closed-form terms, the attention figures, the check against the
model's attention, and the raw moments Σq, Σqqᵀ, Σk, Σkkᵀ every PCA view is made from — are sums
over shards, added in shard order. The paper scale needs t0 = mean Q − mean K first: a second,
small round of tasks sums ‖k + t0‖ over each shard's keys. The PCA components come from the merged
moments; each head's rows are projected while the bundle is written, a head at a time from the
shards' files. Which sentences keep the model's attention (the check) is decided by a hash of
their text, the same however the corpus is cut. UMAP and head similarities are computed by the
page from the bundle's vectors when asked (they need every head's points together).

A task that dies (its worker killed, its machine gone) is retried by Ray (`max_retries`); a shard
is written to a temporary folder and renamed when complete, so a retried shard never leaves half a
file, and the merge counts every sentence back.

    import qkviz
    report = qkviz.run_on_ray(sentences, "public/models/all-MiniLM-L6-v2", "corpus.qkviz", address="auto")
    report.tokens, report.tokens_per_second, report.retried

From a shell (or `ray job submit -- python -m qkviz.distributed ...`):

    python -m qkviz.distributed corpus.txt --model public/models/all-MiniLM-L6-v2 --out corpus.qkviz --address auto
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .analysis import HeadSums, key_norms, normalizations, plain_specs
from .similarity import hash_order, head_similarities
from .write import SAMPLE_BYTES, SAMPLE_SENTENCES, Shape, _write

#: "auto" writes the queries and keys into the bundle up to this many bytes (a file still easy to move; the page
#: reads a full bundle a head at a time whatever its size), and a views bundle past it.
FULL_BUNDLE_BYTES = 8 * 1024**3
#: Padded tokens an onnxruntime call carries at most (sentences of similar length batched together): measured
#: fastest at 256–512 on all-MiniLM-L6-v2 (4,100 tokens/s a thread; 2,400 at 4,096, whose activations leave the cache).
BATCH_TOKENS = 512


# ---------------------------------------------------------------------------------------------
# Extraction on a worker


@dataclass
class ShardResult:
    """What a shard's task sends back: its sentences' tokens, its sums, where its vectors are, and timings."""

    index: int
    texts: List[str]
    tokens: List[List[str]]
    ids: List[List[int]]
    sums: HeadSums
    folder: str
    sampled: List[int]
    extract_s: float
    sums_s: float
    pid: int
    host: str
    #: The model as the bundle describes it: name, causal, rotary, attention specs, library.
    info: Dict[str, Any]


class OnnxExtractor:
    """A QKViz model folder (qkviz-model.json, model.onnx, tokenizer.json) run by onnxruntime on the CPU."""

    def __init__(self, folder: Union[str, Path], threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        manifest_path = self.folder / "qkviz-model.json"
        if not manifest_path.exists():
            raise FileNotFoundError(f"{self.folder} is not a QKViz model folder (no qkviz-model.json): convert it with `npm run setup:model` or the CLI first")
        m = json.loads(manifest_path.read_text())
        self.name = m["name"]
        self.layers, self.heads, self.head_dim = m["layers"], m["heads"], m["headDim"]
        self.kv_heads = m.get("kvHeads") or self.heads
        self.causal = bool(m.get("causal"))
        self.rotary = "post" if m.get("rotary") else None
        self.max_tokens = m["maxTokens"]
        self.attention = m.get("attention") or plain_specs(self.layers, self.head_dim)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.folder / m["onnx"]["file"]), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        # Each sentence as itself: no padding or truncation a tokenizer.json may carry (the page splits; this refuses).
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.pad = 0
        self.library = f"onnxruntime {ort.__version__}"

    def extract(self, texts: Sequence[str], sampled: Sequence[int]) -> "Capture":
        """Sentences' queries and keys as a Capture (the model's attention kept for `sampled`)."""
        from .capture import Capture

        tokenized = [self.tokenize(t) for t in texts]
        ids = [t[0] for t in tokenized]
        queries, keys, attention = self.run(ids, sampled)
        return Capture(
            model=self.name,
            texts=list(texts),
            tokens=[t[1] for t in tokenized],
            ids=ids,
            queries=np.concatenate(queries, axis=2),
            keys=np.concatenate(keys, axis=2),
            causal=self.causal,
            attention=self.attention,
            rotary=self.rotary,
            attention_sample=attention,
            device="onnxruntime CPU",
            library=self.library,
        )

    def tokenize(self, text: str) -> Tuple[List[int], List[str]]:
        ids = self.tokenizer.encode(text).ids
        if len(ids) > self.max_tokens:
            raise ValueError(f"a sentence has {len(ids)} tokens, more than the model's {self.max_tokens}: {text[:80]!r}…")
        return ids, [self.tokenizer.id_to_token(i) or f"[{i}]" for i in ids]

    def run(self, ids: Sequence[Sequence[int]], attention_for: Sequence[int]) -> Tuple[List[np.ndarray], List[np.ndarray], Dict[int, np.ndarray]]:
        """Per sentence, queries [layers, heads, n, d] and keys [layers, kv, n, d]; the model's attention for `attention_for`."""
        order = sorted(range(len(ids)), key=lambda s: len(ids[s]))
        queries: List[np.ndarray] = [None] * len(ids)  # type: ignore[list-item]
        keys: List[np.ndarray] = [None] * len(ids)  # type: ignore[list-item]
        attention: Dict[int, np.ndarray] = {}
        wanted = set(attention_for)
        at = 0
        while at < len(order):
            seq = len(ids[order[at]])
            batch = [order[at]]
            while at + len(batch) < len(order):
                nxt = order[at + len(batch)]
                if (len(batch) + 1) * len(ids[nxt]) > BATCH_TOKENS:
                    break
                batch.append(nxt)
            at += len(batch)
            seq = max(len(ids[s]) for s in batch)
            feed_ids = np.full((len(batch), seq), self.pad, np.int64)
            mask = np.zeros((len(batch), seq), np.int64)
            for b, s in enumerate(batch):
                feed_ids[b, : len(ids[s])] = ids[s]
                mask[b, : len(ids[s])] = 1
            feeds = {"input_ids": feed_ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(feed_ids)
            names = [f"query_{l}" for l in range(self.layers)] + [f"key_{l}" for l in range(self.layers)]
            with_attention = any(s in wanted for s in batch)
            if with_attention:
                names += [f"attention_{l}" for l in range(self.layers)]
            out = self.session.run(names, feeds)
            L, H, KV, D = self.layers, self.heads, self.kv_heads, self.head_dim
            q = np.stack(out[:L])  # [L, b, seq, H*D]
            k = np.stack(out[L : 2 * L])
            for b, s in enumerate(batch):
                n = len(ids[s])
                queries[s] = q[:, b, :n].reshape(L, n, H, D).transpose(0, 2, 1, 3).copy()
                keys[s] = k[:, b, :n].reshape(L, n, KV, D).transpose(0, 2, 1, 3).copy()
                if s in wanted:
                    attention[s] = np.stack(out[2 * L :])[:, b, :, :n, :n].copy()
        return queries, keys, attention


class TorchExtractor:
    """A PyTorch model through qkviz.capture: `load()` returns (model, tokenizer) — a transformers model
    and its tokenizer — and is called once in each worker process (move the model to the worker's GPU there)."""

    def __init__(self, load: Callable[[], Tuple[Any, Any]]):
        self.model, self.tokenizer = load()

    def extract(self, texts: Sequence[str], sampled: Sequence[int]) -> "Capture":
        from .capture import capture

        return capture(self.model, self.tokenizer, list(texts), sample=list(sampled))


_EXTRACTORS: Dict[str, Any] = {}


def _extractor(model: Any, threads: int):
    """One extractor a worker process (the model is loaded once per process, not per shard)."""
    if isinstance(model, (str, Path)):
        key = f"{model}|{threads}"
    else:
        # The same function arrives as a new object in every task: known by its pickled bytes.
        from ray import cloudpickle

        key = hashlib.sha1(cloudpickle.dumps(model)).hexdigest()
    if key not in _EXTRACTORS:
        _EXTRACTORS[key] = OnnxExtractor(model, threads) if isinstance(model, (str, Path)) else TorchExtractor(model)
    return _EXTRACTORS[key]


def extract_shard(model: Any, index: int, texts: Sequence[str], sampled: Sequence[int], work: str, threads: int = 1) -> ShardResult:
    """A shard's task: extract, write its vectors (atomically), and sum its heads."""
    import socket

    attempts = Path(work) / "attempts"
    attempts.mkdir(parents=True, exist_ok=True)
    # Who is working on which shard (a test kills one of these to check the retry).
    (attempts / f"shard-{index:05d}-{os.getpid()}").write_text(str(os.getpid()))
    started = time.perf_counter()
    c = _extractor(model, threads).extract(texts, sampled)
    q, k, ids, attention = c.queries, c.keys, c.ids, c.attention_sample
    extract_s = time.perf_counter() - started
    started = time.perf_counter()
    sums = HeadSums(c.layers * c.heads, c.head_dim)
    sums.add(q, k, [len(i) for i in ids], c.attention, c.causal, attention)
    folder = Path(work) / f"shard-{index:05d}"
    partial = Path(tempfile.mkdtemp(prefix=f".shard-{index:05d}-", dir=work))
    np.save(partial / "queries.npy", q)
    np.save(partial / "keys.npy", k)
    np.savez(partial / "attention.npz", **{str(s): a for s, a in attention.items()})
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(partial, folder)
    info = {"name": c.model, "causal": c.causal, "rotary": c.rotary, "attention": c.attention, "library": c.library}
    return ShardResult(index, list(texts), c.tokens, ids, sums, str(folder), sorted(attention), extract_s, time.perf_counter() - started, os.getpid(), socket.gethostname(), info)


def shard_key_norms(folder: str, heads: int, t0: np.ndarray) -> np.ndarray:
    """The second round: Σ‖k + t0‖ per head over a shard's keys."""
    return key_norms(np.load(Path(folder) / "keys.npy", mmap_mode="r"), heads, t0)


# ---------------------------------------------------------------------------------------------
# The driver


@dataclass
class RunReport:
    """What a run did: the bundle, its size, throughput and the shards retried."""

    path: Path
    sentences: int
    tokens: int
    shards: int
    workers: int
    seconds: float
    extract_seconds: float
    merge_seconds: float
    retried: List[int] = field(default_factory=list)
    #: "full" or "views": what the bundle holds.
    contents: str = "full"
    #: Of the merge: the head map's distances (on a sample of fixed budget: a cost that does not grow with the corpus).
    similarities_seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else math.nan

    def __repr__(self) -> str:
        return (
            f"<qkviz.RunReport {self.path.name}: {self.sentences:,} sentences, {self.tokens:,} tokens in {self.shards} shards on "
            f"{self.workers} workers, {self.contents} bundle, {self.seconds:.1f} s ({self.tokens_per_second:,.0f} tokens/s; merge {self.merge_seconds:.1f} s)"
            + (f", shards {self.retried} retried" if self.retried else "")
            + ">"
        )


def hashed_sample(texts: Sequence[str], count: int = SAMPLE_SENTENCES) -> List[int]:
    """The sentences whose model attention is kept: the first `count` in hash order (qkviz.similarity.hash_order) —
    the same however the corpus is sharded."""
    return sorted(hash_order(texts)[:count])


def shard_ranges(count: int, shards: int) -> List[Tuple[int, int]]:
    """`shards` contiguous, near-equal ranges of sentences."""
    shards = max(1, min(shards, count))
    bounds = [round(i * count / shards) for i in range(shards + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(shards)]


def run_on_ray(
    texts: Sequence[str],
    model: Union[str, Path, Callable[[], Any]],
    out: Union[str, Path],
    *,
    address: Optional[str] = None,
    shards: Optional[int] = None,
    workers: Optional[int] = None,
    threads: int = 1,
    layouts: Sequence[Tuple[str, str, int]] = (("optimized", "pca", 3),),
    contents: str = "auto",
    full_limit: int = FULL_BUNDLE_BYTES,
    dtype: str = "float32",
    work_dir: Optional[Union[str, Path]] = None,
    max_retries: int = 3,
    keep_shards: bool = False,
    label: Optional[str] = None,
    on_shard: Optional[Callable[[ShardResult], None]] = None,
) -> RunReport:
    """Extracts `texts` on a Ray cluster and writes one bundle at `out`.

    model      a QKViz model folder (ONNX through onnxruntime; every worker must see the path: shared
               disk or the same layout on each machine), or a zero-argument function returning
               (model, tokenizer) of Hugging Face transformers, captured with qkviz.capture on each
               worker (load it there: the function is shipped, not the model)
    address    the cluster ("auto" for the one this machine is part of; None starts a local one)
    shards     how many tasks the corpus is cut into (default: 4 per worker, ≥ 1 sentence each)
    workers    at most this many tasks at once (default: the cluster's CPUs / threads)
    threads    onnxruntime threads per task
    contents   "full" (vectors included: the page can compute any view), "views" (layouts,
               figures and tokens only) or "auto": full where the vectors fit `full_limit` bytes,
               else views (the report says which)
    work_dir   where shards are written (must be shared by the workers and this process;
               default a temporary folder, deleted after the merge unless keep_shards)
    """
    import ray

    if not texts:
        raise ValueError("the corpus is empty: give at least one sentence")
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = workers or max(1, cpus // threads)
    shards = shards or min(len(texts), 4 * workers)
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="qkviz-ray-"))
    work.mkdir(parents=True, exist_ok=True)
    sample = hashed_sample(texts)
    ranges = shard_ranges(len(texts), shards)
    task = ray.remote(num_cpus=threads, max_retries=max_retries, retry_exceptions=False)(extract_shard)
    started = time.perf_counter()
    pending: Dict[Any, int] = {}
    results: Dict[int, ShardResult] = {}
    queue = list(enumerate(ranges))
    # At most `workers` shards in flight: the cluster may be shared, and a shard's vectors wait on disk, not in the object store.
    while queue or pending:
        while queue and len(pending) < workers:
            i, (a, b) = queue.pop(0)
            local = [s - a for s in sample if a <= s < b]
            pending[task.remote(model, i, list(texts[a:b]), local, str(work), threads)] = i
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            pending.pop(ref)
            result = ray.get(ref)
            results[result.index] = result
            if on_shard:
                on_shard(result)
    extract_seconds = time.perf_counter() - started
    ordered = [results[i] for i in range(len(ranges))]
    report = _merge(ordered, texts, out, sample, ranges, layouts, contents, dtype, label, workers, started, full_limit)
    report.extract_seconds = extract_seconds
    report.retried = _retried(work, len(ranges))
    if not keep_shards and not work_dir:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _retried(work: Path, shards: int) -> List[int]:
    """Shards more than one worker process started on (a task retried after its worker died)."""
    seen: Dict[int, int] = {}
    for f in (work / "attempts").glob("shard-*"):
        index = int(f.name.split("-")[1])
        seen[index] = seen.get(index, 0) + 1
    return sorted(i for i, n in seen.items() if n > 1)


def _merge(ordered: List[ShardResult], texts, out, sample, ranges, layouts, contents, dtype, label, workers, started, full_limit) -> RunReport:
    """Adds the shards' sums in shard order, runs the paper scale's second round, and writes the bundle from the shards' files."""
    import ray

    merge_started = time.perf_counter()
    sums = ordered[0].sums
    for r in ordered[1:]:
        sums.merge(r.sums)
    if contents == "auto":
        first_q = np.load(Path(ordered[0].folder) / "queries.npy", mmap_mode="r")
        first_k = np.load(Path(ordered[0].folder) / "keys.npy", mmap_mode="r")
        size = sums.n * (first_q.shape[0] * (first_q.shape[1] + first_k.shape[1]) * first_q.shape[3]) * (2 if dtype == "float16" else 4)
        contents = "full" if size <= full_limit else "views"
    if sum(len(r.texts) for r in ordered) != len(texts):
        raise RuntimeError(f"the shards hold {sum(len(r.texts) for r in ordered)} sentences, the corpus {len(texts)}")
    info = ordered[0].info
    first = np.load(Path(ordered[0].folder) / "queries.npy", mmap_mode="r")
    layers, heads, _, dim = first.shape
    kv = np.load(Path(ordered[0].folder) / "keys.npy", mmap_mode="r").shape[1]
    t0 = sums.t0()
    norm_task = ray.remote(num_cpus=1)(shard_key_norms)
    knorm = np.sum(ray.get([norm_task.remote(r.folder, heads, t0) for r in ordered]), axis=0)
    qs = [np.load(Path(r.folder) / "queries.npy", mmap_mode="r") for r in ordered]
    ks = [np.load(Path(r.folder) / "keys.npy", mmap_mode="r") for r in ordered]
    query_head = lambda c: np.concatenate([q[c // heads, c % heads] for q in qs])
    key_head = lambda c: np.concatenate([k[c // kv, c % kv] for k in ks])
    sampled_attention: Dict[int, np.ndarray] = {}
    for r, (a, _) in zip(ordered, ranges):
        with np.load(Path(r.folder) / "attention.npz") as z:
            for s in r.sampled:
                sampled_attention[a + s] = z[str(s)]
    tokens = [t for r in ordered for t in r.tokens]
    ids = [i for r in ordered for i in r.ids]
    name = info["name"]
    group = heads // kv
    norms = normalizations(sums, knorm)
    # The head map's distances on the hashed sample, its rows read from the shards that hold them.
    shard_starts = np.concatenate([[0], np.cumsum([q.shape[2] for q in qs])])

    def rows_of(c: int, rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, np.int64)
        which = np.searchsorted(shard_starts, rows, side="right") - 1
        q_out, k_out = np.empty((len(rows), dim), np.float32), np.empty((len(rows), dim), np.float32)
        for shard in np.unique(which):
            at = which == shard
            local = rows[at] - shard_starts[shard]
            q_out[at] = qs[shard][c // heads, c % heads][local]
            k_out[at] = ks[shard][c // heads, (c % heads) // group][local]
        return q_out, k_out

    lengths = [len(i) for i in ids]
    similarities_started = time.perf_counter()
    distances = head_similarities(list(texts), lengths, layers, heads, info["attention"], info["causal"], norms["paper"], rows_of)
    similarities_s = time.perf_counter() - similarities_started
    extract_ms = (merge_started - started) * 1000
    path = _write(
        out,
        Shape(layers, heads, kv, dim),
        tokens=tokens,
        ids=ids,
        texts=list(texts),
        model=name,
        causal=info["causal"],
        specs=info["attention"],
        rotary=info["rotary"],
        sums=sums,
        norms=norms,
        # A query head's keys are its group's key head.
        head_vectors=lambda c: (query_head(c), key_head((c // heads) * kv + (c % heads) // group)),
        vectors={"queries": query_head, "keys": key_head},
        sample=sampled_attention,
        layouts=layouts,
        dtype=dtype,
        label=label or f"{name} · {len(texts):,} sentences on Ray",
        device=f"Ray, {workers} worker{'s' if workers != 1 else ''}",
        library=f"{info['library']} on Ray",
        timings={"extractMs": extract_ms, "analyzeMs": (time.perf_counter() - merge_started) * 1000},
        created_by=None,
        contents=contents,
        similarities=distances,
    )
    seconds = time.perf_counter() - started
    return RunReport(
        Path(path), len(texts), sums.n, len(ordered), workers, seconds, 0.0, time.perf_counter() - merge_started, contents=contents, similarities_seconds=similarities_s
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qkviz.distributed", description="Extract a corpus on a Ray cluster into one .qkviz bundle the page opens.")
    parser.add_argument("corpus", help="a text file, one sentence a line (or .jsonl with {\"text\": ...} lines)")
    parser.add_argument("--model", required=True, help="a QKViz model folder (qkviz-model.json, model.onnx, tokenizer.json), visible to every worker")
    parser.add_argument("--out", required=True)
    parser.add_argument("--address", default=None, help='the Ray cluster ("auto": the one this machine belongs to; default: start a local one)')
    parser.add_argument("--shards", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--contents", choices=["auto", "full", "views"], default="auto")
    parser.add_argument("--float16", action="store_true")
    parser.add_argument("--work-dir")
    args = parser.parse_args(argv)
    text = Path(args.corpus).read_text(encoding="utf-8")
    if args.corpus.endswith(".jsonl"):
        texts = [json.loads(line)["text"] for line in text.splitlines() if line.strip()]
    else:
        texts = [line.strip() for line in text.splitlines() if line.strip()]
    report = run_on_ray(
        texts,
        args.model,
        args.out,
        address=args.address,
        shards=args.shards,
        workers=args.workers,
        threads=args.threads,
        contents=args.contents,
        dtype="float16" if args.float16 else "float32",
        work_dir=args.work_dir,
    )
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
