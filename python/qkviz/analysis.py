"""Every head's analysis as the page does it (lib/analysis), in numpy: attention recomputed from
the queries and keys, the sums the normalizations are closed-form in, and the PCA moments.

Everything here is a sum over sentences (attention never crosses one), so a corpus cut into
shards — windows in the page, Ray tasks here — gives the same result when the shards' `HeadSums`
are merged: that is what makes a run past one machine exact (qkviz.distributed). The one figure
that is not a sum is the paper's scale √(mean ‖k + t0‖ / mean ‖q‖): it needs t0 = mean Q − mean K
from every shard first, then one more pass over the keys (`key_norms`).

Mirrors, operation for operation where it matters: lib/analysis/sums.ts (HeadSums),
objective.ts / optimize.ts (the optimized normalization's search), lib/projection/pcaMoments.ts
(PCA of the normalized joint cloud from raw moments, sign rule) and fit.ts (unit ball).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

MODES = ("raw", "paper", "optimized")
#: Attention weights at least this large count in the check's relative error (lib/analysis/sums.ts).
REL_ERROR_FLOOR = 1e-3
#: How far the optimized search may move the scale from the balanced value (lib/analysis/optimize.ts).
OPTIMIZE_SCALE_RANGE = 8
_ALPHAS, _GRID, _ROUNDS, _STEPS = 21, 161, 3, 30
#: Pairs (f64) one batch of same-length sentences holds at most, over every head (~128 MB).
_BLOCK_ELEMENTS = 1 << 24


def plain_specs(layers: int, head_dim: int) -> List[Dict[str, float]]:
    """softmax(q·k/√d) in every layer."""
    return [{"scale": 1 / math.sqrt(head_dim)} for _ in range(layers)]


def attention_of(q: np.ndarray, k: np.ndarray, spec: Mapping[str, float], causal: bool) -> np.ndarray:
    """softmax over one sentence as the layer computes it, for a stack of heads: q, k [cells, n, d] → [cells, n, n] (float64).

    `spec` entries may be arrays over the cells (scale, softcap, window: 0 = none)."""
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    return _softmax(_logits(q @ k.transpose(0, 2, 1), spec, q.shape[1], causal))


def _entry(spec: Mapping[str, float], name: str) -> np.ndarray:
    """A spec entry as a [cells or 1, 1, 1] array (0 where absent)."""
    value = spec.get(name)
    return np.reshape(np.asarray(0 if value is None else value, dtype=np.float64), (-1, 1, 1))


def _logits(dots: np.ndarray, spec: Mapping[str, float], n: int, causal: bool) -> np.ndarray:
    """scale · q·k, soft-capped, −∞ where a query does not see a key."""
    logits = _entry(spec, "scale") * dots
    cap = _entry(spec, "softcap")
    if np.any(cap > 0):
        capped = np.where(cap > 0, cap, 1.0)
        logits = np.where(cap > 0, capped * np.tanh(logits / capped), logits)
    return np.where(_allowed(n, causal, _entry(spec, "window")), logits, -np.inf)


def _softmax(logits: np.ndarray) -> np.ndarray:
    weights = np.exp(logits - logits.max(axis=2, keepdims=True))
    return weights / weights.sum(axis=2, keepdims=True)


def _allowed(n: int, causal: bool, window) -> np.ndarray:
    """[cells or 1, n, n] mask of the keys each query sees (causal, sliding window)."""
    i, j = np.indices((n, n))
    allowed = (j <= i) if causal else np.ones((n, n), dtype=bool)
    allowed = allowed[None]
    w = np.asarray(window, dtype=np.float64)
    if np.any(w > 0):
        allowed = allowed & ((w <= 0) | (j[None] > i[None] - w))
    return allowed


class _Grouped:
    """Keys per query head without copying a group's keys for each of its heads: rows gathered on demand, as float64."""

    def __init__(self, cells: np.ndarray, index: np.ndarray):
        self.cells, self.index = cells, index

    def rows(self, rows) -> np.ndarray:
        """[query heads, *rows' shape, d] for a slice or an index array of token rows."""
        if isinstance(rows, slice):
            return self.cells[self.index, rows].astype(np.float64)
        return self.cells[self.index[:, None, None], rows[None]].astype(np.float64)


@dataclass
class HeadSums:
    """Every head's sums over some sentences (cells = layers × heads, index layer · heads + head)."""

    cells: int
    dim: int
    n: int = 0
    mass: np.ndarray = field(default=None)  # type: ignore[assignment]
    qq: np.ndarray = field(default=None)  # type: ignore[assignment]
    qqR: np.ndarray = field(default=None)  # type: ignore[assignment]
    kk: np.ndarray = field(default=None)  # type: ignore[assignment]
    kkW: np.ndarray = field(default=None)  # type: ignore[assignment]
    qkA: np.ndarray = field(default=None)  # type: ignore[assignment]
    qNorm: np.ndarray = field(default=None)  # type: ignore[assignment]
    entropy: np.ndarray = field(default=None)  # type: ignore[assignment]
    special: np.ndarray = field(default=None)  # type: ignore[assignment]
    sRq: np.ndarray = field(default=None)  # type: ignore[assignment]
    sWk: np.ndarray = field(default=None)  # type: ignore[assignment]
    q_sum: np.ndarray = field(default=None)  # type: ignore[assignment]
    k_sum: np.ndarray = field(default=None)  # type: ignore[assignment]
    q_outer: np.ndarray = field(default=None)  # type: ignore[assignment]
    k_outer: np.ndarray = field(default=None)  # type: ignore[assignment]
    max_abs: np.ndarray = field(default=None)  # type: ignore[assignment]
    max_rel: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        c, d = self.cells, self.dim
        for name in ("mass", "qq", "qqR", "kk", "kkW", "qkA", "qNorm", "entropy", "special"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(c))
        for name in ("sRq", "sWk", "q_sum", "k_sum"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros((c, d)))
        for name in ("q_outer", "k_outer"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros((c, d, d)))
        for name in ("max_abs", "max_rel"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(c, np.nan))

    def add(
        self,
        queries: np.ndarray,
        keys: np.ndarray,
        lengths: Sequence[int],
        specs: Sequence[Mapping[str, float]],
        causal: bool,
        sample: Optional[Mapping[int, np.ndarray]] = None,
    ) -> None:
        """Adds some sentences: queries [layers, heads, n, d], keys [layers, kv_heads, n, d] (n = Σ lengths),
        and the model's own attention {sentence index within these: [layers, heads, len, len]} to check against."""
        layers, heads = queries.shape[:2]
        kv = keys.shape[1]
        # As stored (float32 or 16), widened to float64 a block at a time: a whole-run float64 copy costs more than the sums.
        q = np.asarray(queries).reshape(layers * heads, -1, self.dim)
        k_cells = np.asarray(keys).reshape(layers * kv, -1, self.dim)
        # Each query head's key head (grouped-query attention), index layer · kv + group.
        kidx = np.array([(c // heads) * kv + (c % heads) // (heads // kv) for c in range(layers * heads)])
        k = _Grouped(k_cells, kidx)
        per_cell = {
            "scale": np.repeat([s["scale"] for s in specs], heads),
            "softcap": np.repeat([s.get("softcap") or 0 for s in specs], heads),
            "window": np.repeat([s.get("window") or 0 for s in specs], heads),
        }
        row_weight = np.zeros((self.cells, q.shape[1]))
        key_weight = np.zeros((self.cells, q.shape[1]))
        starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        by_length: Dict[int, List[int]] = {}
        for s, n in enumerate(lengths):
            if n:
                by_length.setdefault(int(n), []).append(s)
        # Sentences of one length together, as one batch of [cells × sentences] n×n blocks (numpy's loop, not Python's).
        for n, sentences in sorted(by_length.items()):
            step = max(1, _BLOCK_ELEMENTS // (self.cells * n * n))
            for at in range(0, len(sentences), step):
                group = sentences[at : at + step]
                self._add_blocks(q, k, n, group, starts, per_cell, causal, sample, row_weight, key_weight)
        total = q.shape[1]
        step = max(1, _BLOCK_ELEMENTS // (self.cells * self.dim))
        for a in range(0, total, step):
            b = min(total, a + step)
            qb = q[:, a:b].astype(np.float64)
            kb = k.rows(slice(a, b))
            R, W = row_weight[:, a:b], key_weight[:, a:b]
            qq = np.einsum("cnd,cnd->cn", qb, qb)
            kk = np.einsum("cnd,cnd->cn", kb, kb)
            self.qq += qq.sum(axis=1)
            self.kk += kk.sum(axis=1)
            self.qqR += (R * qq).sum(axis=1)
            self.kkW += (W * kk).sum(axis=1)
            self.qNorm += np.sqrt(qq).sum(axis=1)
            self.mass += R.sum(axis=1)
            self.sRq += (R[:, None, :] @ qb)[:, 0]
            self.sWk += (W[:, None, :] @ kb)[:, 0]
            self.q_sum += qb.sum(axis=1)
            self.k_sum += kb.sum(axis=1)
            # Σxxᵀ as a batched matrix product (BLAS), not an einsum loop.
            self.q_outer += qb.transpose(0, 2, 1) @ qb
            self.k_outer += kb.transpose(0, 2, 1) @ kb
        self.n += total

    def _add_blocks(self, q, k, n, group, starts, per_cell, causal, sample, row_weight, key_weight) -> None:
        """Sentences `group`, all n tokens long: their pairs' attention and sums."""
        cells, g = self.cells, len(group)
        idx = starts[group][:, None] + np.arange(n)  # [g, n] rows
        qs = q[:, idx].reshape(cells * g, n, self.dim).astype(np.float64)
        ks = k.rows(idx).reshape(cells * g, n, self.dim)
        spec = {name: np.repeat(values, g) for name, values in per_cell.items()}
        dots = qs @ ks.transpose(0, 2, 1)
        logits = _logits(dots, spec, n, causal)
        # softmax and the row entropy −Σ a ln a = max + ln Σe − Σ a·z from one exp (masked keys: e = 0, z taken as 0).
        top = logits.max(axis=2, keepdims=True)
        e = np.exp(logits - top)
        total = e.sum(axis=2, keepdims=True)
        att = e / total
        az = (att * np.where(np.isfinite(logits), logits, 0)).sum(axis=2)
        entropy = top[..., 0] + np.log(total[..., 0]) - az
        per = lambda x: x.reshape(cells, g, *x.shape[1:])
        self.entropy += per(entropy).sum(axis=(1, 2))
        self.qkA += per((att * dots).sum(axis=(1, 2))).sum(axis=1)
        row_weight[:, idx] = per(att.sum(axis=2))
        key_weight[:, idx] = per(att.sum(axis=1))
        special = att[:, :, 0].sum(axis=1) + (att[:, :, n - 1].sum(axis=1) if not causal and n > 1 else 0)
        self.special += per(special).sum(axis=1)
        if sample:
            blocks = per(att)
            for j, s in enumerate(group):
                if s not in sample:
                    continue
                want = np.asarray(sample[s], dtype=np.float64).reshape(cells, n, n)
                err = np.abs(blocks[:, j] - want)
                big = want >= REL_ERROR_FLOOR
                rel = np.where(big, err / np.where(big, want, 1), 0).max(axis=(1, 2))
                self.max_abs = np.fmax(self.max_abs, err.max(axis=(1, 2)))
                self.max_rel = np.fmax(self.max_rel, rel)

    def merge(self, other: "HeadSums") -> "HeadSums":
        """Another shard's sums added in (counts and sums add; the check keeps the worst)."""
        for name in ("mass", "qq", "qqR", "kk", "kkW", "qkA", "qNorm", "entropy", "special", "sRq", "sWk", "q_sum", "k_sum", "q_outer", "k_outer"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_abs = np.fmax(self.max_abs, other.max_abs)
        self.max_rel = np.fmax(self.max_rel, other.max_rel)
        self.n += other.n
        return self

    def t0(self) -> np.ndarray:
        """mean Q − mean K per head, [cells, d]."""
        return (self.q_sum - self.k_sum) / max(self.n, 1)

    def squared_terms(self, cell: int) -> Dict[str, float]:
        """The sums the attended/chance squared-distance ratio is closed-form in (lib/analysis/objective.ts)."""
        t0 = self.t0()[cell]
        return {
            "n": self.n,
            "mass": self.mass[cell],
            "qq": self.qq[cell],
            "qqR": self.qqR[cell],
            "kk": self.kk[cell],
            "kkW": self.kkW[cell],
            "qkA": self.qkA[cell],
            "qk": float(self.q_sum[cell] @ self.k_sum[cell]),
            "qt0": float(self.q_sum[cell] @ t0),
            "qt0R": float(self.sRq[cell] @ t0),
            "kt0": float(self.k_sum[cell] @ t0),
            "kt0W": float(self.sWk[cell] @ t0),
            "tt": float(t0 @ t0),
        }


def key_norms(keys: np.ndarray, heads: int, t0: np.ndarray) -> np.ndarray:
    """Σ_j ‖k_j + t0‖ per head ([cells]) over some tokens' keys [layers, kv_heads, n, d]: the paper scale's second pass."""
    layers, kv = keys.shape[:2]
    out = np.zeros(layers * heads)
    for c in range(layers * heads):
        k = np.asarray(keys[c // heads, (c % heads) // (heads // kv)], dtype=np.float64)
        out[c] = np.sqrt(((k + t0[c]) ** 2).sum(axis=1)).sum()
    return out


def squared_ratio(t: Mapping[str, float], alpha, c):
    """The attended mean squared distance over the chance one, for translation α·t0 and scale c (numbers or numpy arrays)."""
    c2 = c * c
    attended = (c2 * t["qqR"] + (t["kkW"] + 2 * alpha * t["kt0W"] + alpha * alpha * t["tt"] * t["mass"]) / c2 - 2 * (t["qkA"] + alpha * t["qt0R"])) / t["mass"]
    chance = c2 * t["qq"] / t["n"] + (t["kk"] / t["n"] + 2 * alpha * t["kt0"] / t["n"] + alpha * alpha * t["tt"]) / c2 - 2 * (t["qk"] + alpha * t["n"] * t["qt0"]) / (t["n"] * t["n"])
    if np.ndim(chance):
        return np.where(chance > 0, attended / np.where(chance > 0, chance, 1), np.inf)
    return attended / chance if chance > 0 else math.inf


def _golden_min(f, a: float, b: float, steps: int) -> Tuple[float, float]:
    ratio = (math.sqrt(5) - 1) / 2
    x1, x2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = f(x1), f(x2)
    for _ in range(steps):
        if f1 < f2:
            b, x2, f2 = x2, x1, f1
            x1 = b - ratio * (b - a)
            f1 = f(x1)
        else:
            a, x1, f1 = x1, x2, f2
            x2 = a + ratio * (b - a)
            f2 = f(x2)
    return (x1, f1) if f1 < f2 else (x2, f2)


def optimized_along(t: Mapping[str, float]) -> Tuple[float, float]:
    """(α, c) minimising the squared-distance ratio: a grid over α and log c, then golden-section steps (lib/analysis/optimize.ts)."""

    def ratio(alpha: float, log_c: float) -> float:
        return squared_ratio(t, alpha, math.exp(log_c))

    span = math.log(OPTIMIZE_SCALE_RANGE)
    best = (0.0, 0.0, ratio(0, 0))
    # The grid at once (α outer, log c inner; the first strict minimum wins, as the page's loop).
    alphas = np.arange(_ALPHAS) / (_ALPHAS - 1)
    keys = t["kk"] / t["n"] + 2 * alphas * t["kt0"] / t["n"] + alphas * alphas * t["tt"]
    balanced = np.log(np.where(keys > 0, keys, 1) / (t["qq"] / t["n"] if t["qq"] > 0 else 1)) / 4
    center = np.where((keys > 0) & (t["qq"] > 0), balanced, 0.0)
    log_c = center[:, None] - span + 2 * span * np.arange(_GRID)[None, :] / (_GRID - 1)
    values = squared_ratio(t, alphas[:, None], np.exp(log_c))
    values = np.where(np.isnan(values), np.inf, values)
    a, i = np.unravel_index(int(np.argmin(values)), values.shape)
    if values[a, i] < best[2]:
        best = (float(alphas[a]), float(log_c[a, i]), float(values[a, i]))
    c_step, alpha_step = 2 * span / (_GRID - 1), 1 / (_ALPHAS - 1)
    for _ in range(_ROUNDS):
        x, v = _golden_min(lambda x: ratio(best[0], x), best[1] - c_step, best[1] + c_step, _STEPS)
        if v < best[2]:
            best = (best[0], x, v)
        x, v = _golden_min(lambda x: ratio(x, best[1]), max(0.0, best[0] - alpha_step), min(1.0, best[0] + alpha_step), _STEPS)
        if v < best[2]:
            best = (x, best[1], v)
        c_step /= 4
        alpha_step /= 4
    return best[0], math.exp(best[1])


@dataclass
class Normalization:
    """k' = (k + translation) / scale, q' = q · scale."""

    translation: np.ndarray
    scale: float


def normalizations(sums: HeadSums, key_norm_sums: np.ndarray) -> Dict[str, List[Normalization]]:
    """Every mode's normalization per head, from the merged sums and Σ‖k + t0‖ (`key_norms` over every shard)."""
    t0 = sums.t0()
    out: Dict[str, List[Normalization]] = {m: [] for m in MODES}
    for c in range(sums.cells):
        paper = math.sqrt(key_norm_sums[c] / sums.qNorm[c]) if sums.qNorm[c] > 0 else 1.0
        alpha, scale = optimized_along(sums.squared_terms(c))
        out["raw"].append(Normalization(t0[c] * 0.0, 1.0))
        out["paper"].append(Normalization(t0[c] * 1.0, paper))
        out["optimized"].append(Normalization(t0[c] * alpha, scale))
    return out


@dataclass
class HeadPca:
    mean: np.ndarray
    components: np.ndarray  # [dims, d]
    explained: np.ndarray  # [d]


def pca_of_moments(sums: HeadSums, cell: int, norm: Normalization, dims: int) -> HeadPca:
    """The PCA of a head's normalized joint cloud (queries then keys) from its raw moments (lib/projection/pcaMoments.ts)."""
    n = sums.n
    c, t = norm.scale, norm.translation
    qs, ks = sums.q_sum[cell], sums.k_sum[cell]
    mean = (c * qs + (ks + n * t) / c) / (2 * n)
    outer = c * c * sums.q_outer[cell] + (sums.k_outer[cell] + np.outer(ks, t) + np.outer(t, ks) + n * np.outer(t, t)) / (c * c)
    cov = (outer - 2 * n * np.outer(mean, mean)) / (2 * n - 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    components = vectors[:, :dims].T.copy()
    for p in range(dims):
        big = int(np.argmax(np.abs(components[p])))
        if components[p, big] < 0:
            components[p] = -components[p]
    positive = np.maximum(values, 0)
    total = positive.sum()
    return HeadPca(mean, components, positive / total if total > 0 else positive * 0)


def project_on_pca(q: np.ndarray, k: np.ndarray, norm: Normalization, pca: HeadPca) -> np.ndarray:
    """A head's layout: its queries then keys, normalized, projected and fitted into the unit ball, [2n, dims] float32."""
    c = norm.scale
    qp = (np.asarray(q, np.float64) * c - pca.mean) @ pca.components.T
    kp = ((np.asarray(k, np.float64) + norm.translation) / c - pca.mean) @ pca.components.T
    return fit_to_unit_ball(np.concatenate([qp, kp]).astype(np.float32))


def fit_to_unit_ball(coords: np.ndarray) -> np.ndarray:
    """Centred, and scaled uniformly so the farthest point sits on the unit sphere (lib/projection/fit.ts)."""
    x = np.asarray(coords, dtype=np.float64)
    center = x.mean(axis=0)
    radius = math.sqrt(((x - center) ** 2).sum(axis=1).max()) if len(x) else 0.0
    return ((x - center) * (1 / radius if radius > 0 else 1)).astype(np.float32)
