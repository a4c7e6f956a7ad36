"""How alike two heads are (the page's head map: lib/analysis/headSimilarity.ts), in numpy, on a
sample of sentences chosen by a hash of each sentence — the same sample however a corpus is sharded
(qkviz.distributed), so a merged run's similarities equal one process's.

- attention: the Jensen–Shannon distance between two heads' attention rows, root mean square over the
  sampled query rows, in [0, 1];
- geometry: arccos(linear CKA) / (π/2) between two heads' joint query/key clouds after the paper
  normalization, compared token by token on the sampled tokens, in [0, 1].

Both compare every pair of heads, so a budget of operations bounds the sample (as the page's does);
a corpus small enough is compared whole, where the figures equal the page's.
"""

from __future__ import annotations

import hashlib
import math
from typing import Callable, Dict, List, Mapping, Sequence, Tuple

import numpy as np

from .analysis import Normalization, attention_of

#: Multiply-adds the pairwise comparisons may take (the page's ATTENTION_BUDGET, GEOMETRY_BUDGET).
ATTENTION_BUDGET = 6e7
GEOMETRY_BUDGET = 6e8


def hash_order(texts: Sequence[str]) -> List[int]:
    """Sentence indices by a hash of (index, text): what "a shared, hashed sample" takes first."""
    digest = lambda i: hashlib.blake2b(f"{i}\0{texts[i]}".encode(), digest_size=8).digest()
    return sorted(range(len(texts)), key=digest)


def _pairs(cells: int) -> int:
    return cells * (cells - 1) // 2


def attention_sample(order: Sequence[int], lengths: Sequence[int], cells: int, causal: bool, budget: float = ATTENTION_BUDGET) -> List[int]:
    """Sentences (in hash order) whose every query row the attention distances read, within the budget."""
    chosen: List[int] = []
    entries = 0
    for s in order:
        n = lengths[s]
        more = n * (n + 1) // 2 if causal else n * n
        if chosen and (entries + more) * _pairs(cells) > budget:
            break
        chosen.append(s)
        entries += more
    return chosen


def geometry_sample(order: Sequence[int], lengths: Sequence[int], cells: int, budget: float = GEOMETRY_BUDGET) -> List[Tuple[int, int]]:
    """(sentence, tokens taken from its start) in hash order: m tokens, m = √(budget / pairs) / 2 as the page."""
    total = sum(lengths)
    m = max(2, min(total, int(math.sqrt(budget / max(1, _pairs(cells))) // 2)))
    taken: List[Tuple[int, int]] = []
    for s in order:
        if m <= 0:
            break
        take = min(lengths[s], m)
        if take:
            taken.append((s, take))
        m -= take
    return taken


def attention_distances(
    head_rows: Callable[[int, int], Tuple[np.ndarray, np.ndarray]],
    sentences: Sequence[int],
    cells: int,
    heads: int,
    specs: Sequence[Mapping[str, float]],
    causal: bool,
    total_rows: int,
) -> Dict[str, object]:
    """`head_rows(cell, sentence)` → that head's (q, k) rows of the sentence (the rotated ones, what attention uses)."""
    gathered: List[np.ndarray] = []
    entropy = np.zeros(cells)
    rows = 0
    for c in range(cells):
        parts = []
        rows = 0
        for s in sentences:
            q, k = head_rows(c, s)
            att = attention_of(q[None], k[None], specs[c // heads], causal)[0]
            n = len(q)
            # Each row over the keys its query has (renormalised), laid end to end: causal rows are the lower triangle.
            sums = att.sum(axis=1, keepdims=True)
            att = np.where(sums > 0, att / np.where(sums > 0, sums, 1), 1 / n)
            parts.append(att[np.tril_indices(n)] if causal else att.reshape(-1))
            rows += n
        g = np.concatenate(parts) if parts else np.zeros(0)
        gathered.append(g)
        positive = g[g > 0]
        entropy[c] = -(positive * np.log2(positive)).sum()
    G = np.stack(gathered)
    values = np.zeros((cells, cells), np.float32)
    for a in range(cells - 1):
        m = 0.5 * (G[a] + G[a + 1 :])
        hm = -np.where(m > 0, m * np.log2(np.where(m > 0, m, 1)), 0).sum(axis=1)
        jsd = np.maximum(0, (hm - 0.5 * (entropy[a] + entropy[a + 1 :])) / max(rows, 1))
        values[a, a + 1 :] = values[a + 1 :, a] = np.sqrt(np.minimum(1, jsd))
    return {"kind": "attention", "values": values, "sampled": rows, "total": total_rows}


def geometry_distances(
    head_tokens: Callable[[int, Sequence[Tuple[int, int]]], Tuple[np.ndarray, np.ndarray]],
    taken: Sequence[Tuple[int, int]],
    cells: int,
    norms: Sequence[Normalization],
    total_tokens: int,
) -> Dict[str, object]:
    """`head_tokens(cell, taken)` → that head's (q, k) rows of the sampled tokens; `norms` the paper normalization per head."""
    grams = []
    for c in range(cells):
        q, k = head_tokens(c, taken)
        norm = norms[c]
        x = np.concatenate([np.asarray(q, np.float64) * norm.scale, (np.asarray(k, np.float64) + norm.translation) / norm.scale])
        x -= x.mean(axis=0)
        grams.append((x @ x.T).reshape(-1))
    G = np.stack(grams)
    inner = G @ G.T
    norm2 = np.sqrt(np.diag(inner))
    with np.errstate(invalid="ignore", divide="ignore"):
        cka = np.clip(inner / np.outer(norm2, norm2), 0, 1)
    cka = np.where(np.outer(norm2, norm2) > 0, cka, np.eye(cells))
    values = (np.arccos(cka) / (math.pi / 2)).astype(np.float32)
    np.fill_diagonal(values, 0)
    return {"kind": "geometry", "values": values, "sampled": sum(t for _, t in taken), "total": total_tokens}


def head_similarities(
    texts: Sequence[str],
    lengths: Sequence[int],
    layers: int,
    heads: int,
    specs: Sequence[Mapping[str, float]],
    causal: bool,
    paper: Sequence[Normalization],
    rows_of: Callable[[int, np.ndarray], Tuple[np.ndarray, np.ndarray]],
) -> List[Dict[str, object]]:
    """Both distances over the hashed sample; `rows_of(cell, token_indices)` → that head's (q, k) at those corpus rows."""
    cells = layers * heads
    order = hash_order(texts)
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    sentence_rows = lambda s: np.arange(starts[s], starts[s + 1])
    attention = attention_distances(
        lambda c, s: rows_of(c, sentence_rows(s)), attention_sample(order, lengths, cells, causal), cells, heads, specs, causal, int(starts[-1])
    )
    taken = geometry_sample(order, lengths, cells)
    token_rows = np.concatenate([np.arange(starts[s], starts[s] + t) for s, t in taken]) if taken else np.zeros(0, np.int64)
    geometry = geometry_distances(lambda c, _: rows_of(c, token_rows), taken, cells, paper, int(starts[-1]))
    return [attention, geometry]
