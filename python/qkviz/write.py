"""`write_bundle`: a run captured in Python (or merged from Ray shards) as a .qkviz bundle the page
opens — the same container, meta and arrays as the page's own bundles (lib/run/bundleRun.ts), with
every head's normalizations, attention figures, attention check and PCA layouts computed here as
the page computes them (qkviz.analysis). The page scores the remaining figures (distance
correlations and ratios) when it opens the bundle, as it does after its own runs.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import __version__
from .analysis import MODES, HeadSums, Normalization, key_norms, normalizations, pca_of_moments, plain_specs, project_on_pca
from .bundle import BUNDLE_KIND, Streamed, write_container
from .similarity import head_similarities

#: The model's attention is kept on at most this many sentences and bytes (lib/engine/limits.ts ATTENTION_SAMPLE_*).
SAMPLE_SENTENCES = 24
SAMPLE_BYTES = 32 * 1024**2
_NO_FIGURES = {"distanceCorrelation": math.nan, "weightedCorrelation": math.nan, "seedCorrelation": math.nan, "argmaxDistanceRatio": math.nan, "weightedDistanceRatio": math.nan}


@dataclass
class Shape:
    """A run's shape: what the bundle's meta and arrays are sized by."""

    layers: int
    heads: int
    kv_heads: int
    head_dim: int


def sample_sentences(lengths: Sequence[int], cells: int, want: int = SAMPLE_SENTENCES, budget: int = SAMPLE_BYTES) -> List[int]:
    """The sentences whose attention is kept: spread evenly over the corpus, at most `want`, within
    `budget` bytes over every head — lib/engine/extract.ts's sampleSentences, so a capture samples as a run does."""
    count = len(lengths)
    want = min(count, max(0, want))
    chosen: List[int] = []
    used = 0
    for i in range(want):
        s = int((i + 0.5) * count / want)
        cost = lengths[s] * lengths[s] * cells * 4
        if used + cost > budget:
            continue
        chosen.append(s)
        used += cost
    if not chosen and count and want:
        shortest = min(range(count), key=lambda s: lengths[s])
        if lengths[shortest] ** 2 * cells * 4 <= budget:
            chosen.append(shortest)
    return chosen


def analyze(
    queries: np.ndarray,
    keys: np.ndarray,
    lengths: Sequence[int],
    attention: Sequence[Mapping[str, float]],
    causal: bool,
    sample: Optional[Mapping[int, np.ndarray]] = None,
) -> Tuple[HeadSums, np.ndarray]:
    """One process's analysis of a whole run: the heads' sums and Σ‖k + t0‖ (what Ray shards add up)."""
    layers, heads, _, dim = queries.shape
    sums = HeadSums(layers * heads, dim)
    sums.add(queries, keys, lengths, attention, causal, sample)
    return sums, key_norms(keys, heads, sums.t0())


def analysis_meta(sums: HeadSums, norms: Dict[str, List[Normalization]], heads: int) -> Dict[str, Any]:
    """The bundle's `analysis`: every head's normalizations, attention figures and check; figures left to the page (scored: false)."""
    reports = []
    for c in range(sums.cells):
        reports.append(
            {
                "layer": c // heads,
                "head": c % heads,
                "metrics": {
                    m: {**_NO_FIGURES, "normalization": {"translationNorm": float(np.linalg.norm(norms[m][c].translation)), "scale": norms[m][c].scale}}
                    for m in MODES
                },
                "attention": {"entropy": float(sums.entropy[c] / max(sums.n, 1)), "specialShare": float(sums.special[c] / max(sums.n, 1))},
                "check": {"maxAbsError": float(sums.max_abs[c]), "maxRelError": float(sums.max_rel[c])},
            }
        )
    checked = ~np.isnan(sums.max_abs)
    worst = {"maxAbsError": float(sums.max_abs[checked].max()), "maxRelError": float(sums.max_rel[checked].max())} if checked.any() else {"maxAbsError": math.nan, "maxRelError": math.nan}
    return {
        "scored": False,
        "heads": reports,
        "params": {m: [{"translation": n.translation.tolist(), "scale": n.scale} for n in norms[m]] for m in MODES},
        "attentionCheck": worst,
    }


def pca_layout(sums: HeadSums, norms: Dict[str, List[Normalization]], mode: str, dims: int, head_vectors) -> Streamed:
    """A PCA layout [layers, heads, 2N, dims], one head at a time: components from the merged moments, rows from `head_vectors(cell)`."""
    cells = sums.cells

    def chunk(cell: int) -> np.ndarray:
        q, k = head_vectors(cell)
        norm = norms[mode][cell]
        return project_on_pca(q, k, norm, pca_of_moments(sums, cell, norm, dims))

    return Streamed((cells, 2 * sums.n, dims), "float32", cells, chunk)


def write_bundle(
    path: Union[str, Path],
    tokens: Sequence[Sequence[str]],
    queries: np.ndarray,
    keys: np.ndarray,
    *,
    ids: Optional[Sequence[Sequence[int]]] = None,
    texts: Optional[Sequence[str]] = None,
    model: str = "a Python model",
    causal: bool = False,
    attention: Optional[Sequence[Mapping[str, float]]] = None,
    rotary: Optional[str] = None,
    attention_sample: Optional[Mapping[int, np.ndarray]] = None,
    layouts: Sequence[Tuple[str, str, int]] = (("optimized", "pca", 3),),
    dtype: str = "float32",
    label: Optional[str] = None,
    device: str = "python",
    library: Optional[str] = None,
    timings: Optional[Mapping[str, float]] = None,
    analysis: Optional[Tuple[HeadSums, np.ndarray]] = None,
    created_by: Optional[str] = None,
    similarities: bool = True,
) -> Path:
    """Writes a run as a bundle the page opens.

    tokens     per sentence, the token strings (what the page labels points with)
    queries    [layers, heads, N, head_dim], N = every sentence's tokens end to end
    keys       [layers, kv_heads, N, head_dim] (one per key head; grouped-query models share them)
    ids        per sentence, the token ids (default: 0s)
    texts      the sentences as given (default: the tokens joined)
    attention  per layer {"scale", optional "softcap", "window"}: how the model computes attention
               from q·k (default softmax(q·k/√d)); causal: each query sees the tokens up to itself
    attention_sample  {sentence: [layers, heads, n, n]} the model's own attention on some sentences,
               checked against the attention recomputed from Q/K (the page shows the worst error)
    layouts    (mode, "pca", dims) views computed now (mode raw | paper | optimized); the page
               computes any other view (UMAP too) from the vectors when asked
    dtype      "float32" or "float16" for the stored queries and keys
    analysis   (sums, Σ‖k + t0‖) when already reduced (qkviz.distributed's merge); else computed here
    similarities  the head map's attention and geometry distances, on a hashed sample of sentences
               (qkviz.similarity; the page computes them itself when this is False)
    """
    started = time.perf_counter()
    queries = np.asarray(queries)
    keys = np.asarray(keys)
    if queries.ndim != 4 or keys.ndim != 4:
        raise ValueError(f"queries and keys must be [layers, heads, tokens, head_dim]; got {queries.shape} and {keys.shape}")
    layers, heads, n, dim = queries.shape
    kv = keys.shape[1]
    if keys.shape != (layers, kv, n, dim) or heads % kv:
        raise ValueError(f"keys {keys.shape} do not fit queries {queries.shape}: [layers, kv_heads, tokens, head_dim] with kv_heads dividing heads")
    lengths = [len(t) for t in tokens]
    if sum(lengths) != n:
        raise ValueError(f"the sentences hold {sum(lengths)} tokens, the vectors {n}")
    specs = list(attention) if attention is not None else plain_specs(layers, dim)
    if len(specs) != layers:
        raise ValueError(f"attention has {len(specs)} layer specs for {layers} layers")
    sample = dict(attention_sample or {})
    sums, knorm = analysis if analysis is not None else analyze(queries, keys, lengths, specs, causal, sample)
    norms = normalizations(sums, knorm)
    group = heads // kv
    head_vectors = lambda c: (queries[c // heads, c % heads], keys[c // heads, (c % heads) // group])
    texts = list(texts) if texts is not None else [" ".join(t) for t in tokens]
    heads_of = (
        head_similarities(texts, lengths, layers, heads, specs, causal, norms["paper"], lambda c, rows: (queries[c // heads, c % heads][rows], keys[c // heads, (c % heads) // group][rows]))
        if similarities
        else []
    )
    analyze_ms = (time.perf_counter() - started) * 1000
    return _write(
        path,
        Shape(layers, heads, kv, dim),
        tokens=tokens,
        ids=ids,
        texts=texts,
        model=model,
        causal=causal,
        specs=specs,
        rotary=rotary,
        sums=sums,
        norms=norms,
        head_vectors=head_vectors,
        vectors={"queries": lambda c: queries[c // heads, c % heads], "keys": lambda c: keys[c // kv, c % kv]},
        sample=sample,
        layouts=layouts,
        dtype=dtype,
        label=label,
        device=device,
        library=library,
        timings={"analyzeMs": analyze_ms, **(timings or {})},
        created_by=created_by,
        similarities=heads_of,
    )


def _write(
    path: Union[str, Path],
    shape: Shape,
    *,
    tokens,
    ids,
    texts,
    model,
    causal,
    specs,
    rotary,
    sums: HeadSums,
    norms,
    head_vectors,
    vectors: Mapping[str, Any],
    sample: Mapping[int, np.ndarray],
    layouts,
    dtype,
    label,
    device,
    library,
    timings,
    created_by,
    contents: str = "full",
    similarities: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """The bundle itself, each head's vectors asked for when written (`vectors[name](chunk)`): shared by write_bundle and the Ray merge."""
    path = Path(path)
    L, H, KV, D = shape.layers, shape.heads, shape.kv_heads, shape.head_dim
    lengths = [len(t) for t in tokens]
    n = sum(lengths)
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype {dtype!r}: float32 or float16")
    ids = [list(map(int, i)) for i in ids] if ids is not None else [[0] * len(t) for t in tokens]
    texts = list(texts) if texts is not None else [" ".join(t) for t in tokens]
    if len(texts) != len(tokens) or [len(i) for i in ids] != lengths:
        raise ValueError("texts, tokens and ids must have one entry per sentence, ids one per token")
    sampled = sorted(s for s in sample if 0 <= s < len(tokens))
    sample_values = np.zeros((L, H, sum(lengths[s] ** 2 for s in sampled)), np.float32)
    at = 0
    for s in sampled:
        block = np.asarray(sample[s], np.float32).reshape(L, H, -1)
        sample_values[:, :, at : at + block.shape[2]] = block
        at += block.shape[2]
    np_dtype = np.float16 if dtype == "float16" else np.float32
    if contents not in ("full", "views"):
        raise ValueError(f"contents {contents!r}: full or views")
    arrays: Dict[str, Any] = (
        {
            "queries": Streamed((L, H, n, D), dtype, L * H, lambda c: np.asarray(vectors["queries"](c), np_dtype)),
            "keys": Streamed((L, KV, n, D), dtype, L * KV, lambda c: np.asarray(vectors["keys"](c), np_dtype)),
            "attention-sample": sample_values,
        }
        if contents == "full"
        else {}
    )
    layout_meta = []
    for i, (mode, method, dims) in enumerate(layouts):
        if method != "pca" or mode not in MODES or dims not in (2, 3):
            raise ValueError(f"layout {(mode, method, dims)}: Python writes PCA layouts (mode raw | paper | optimized, dims 2 or 3); the page computes UMAP")
        stream = pca_layout(sums, norms, mode, dims, head_vectors)
        arrays[f"layout{i}"] = Streamed((L, H, 2 * n, dims), "float32", L * H, stream.chunk)
        layout_meta.append({"mode": mode, "method": "pca", "dims": dims, "array": f"layout{i}"})
    hidden = H * D
    analysis = analysis_meta(sums, norms, H)
    manifest = {
        "name": model,
        "source": {"kind": "python", "library": library or "qkviz (Python)"},
        "modelType": "python",
        "layers": L,
        "heads": H,
        "kvHeads": KV,
        "causal": bool(causal),
        "rotary": rotary is not None,
        "headDim": D,
        "hidden": hidden,
        "vocabSize": 0,
        "maxTokens": max(lengths, default=0),
        "onnx": {"file": "", "bytes": 0, "sha256": "", "opset": 0},
        "attention": specs,
        "converterVersion": 0,
    }
    meta = {
        "kind": BUNDLE_KIND,
        "createdAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "createdBy": created_by or f"qkviz {__version__} (Python)",
        "label": label or f"{model} · {len(texts)} sentence{'s' if len(texts) != 1 else ''}",
        "manifest": manifest,
        "device": {"device": "cpu", "label": device},
        "timings": {"tokenizeMs": 0, "loadMs": 0, "warmupMs": 0, "extractMs": 0, "analyzeMs": 0, **{k: float(v) for k, v in timings.items()}},
        "attentionError": analysis["attentionCheck"]["maxAbsError"],
        "notices": [],
        "corpus": texts,
        "data": {
            "model": model,
            "layers": L,
            "heads": H,
            "headDim": D,
            "kvHeads": KV,
            "causal": bool(causal),
            **({"rotary": rotary} if rotary else {}),
            "sentences": [{"text": t, "tokens": list(map(str, tok)), "ids": i} for t, tok, i in zip(texts, tokens, ids)],
            "attention": [dict(s) for s in specs],
            "attentionSample": sampled,
        },
        "analysis": analysis,
        "vectors": dtype,
        "contents": contents,
        "layouts": layout_meta,
        "similarities": [{"kind": d["kind"], "sampled": int(d["sampled"]), "total": int(d["total"]), "array": f"similarity-{d['kind']}"} for d in similarities],
    }
    for d in similarities:
        arrays[f"similarity-{d['kind']}"] = np.asarray(d["values"], np.float32)
    write_container(path, meta, arrays)
    return path

