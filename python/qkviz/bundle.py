"""The .qkviz bundle: one file holding a run's JSON description and its typed arrays.

Layout (little-endian), as lib/io/bundle.ts writes and reads it:

    bytes 0-7    magic b"QKVZBNDL"
    bytes 8-11   format version (u32)
    bytes 12-15  header length H (u32)
    bytes 16-19  CRC-32 of the header
    bytes 20-23  0 (reserved)
    bytes 24...  the header: UTF-8 JSON {meta, arrays: [{name, dtype, shape, offset, byteLength, crc32 | chunks}]}
    then         from align8(24 + H), each array's bytes at its 8-byte-aligned offset, zero-padded
                 (the header may end in spaces: Python sizes it before the checksums are known)

An array is checksummed whole (crc32) or in equal chunks along its first axes (chunks: one
CRC-32 per chunk, e.g. per head). Non-finite numbers in the header are written
{"$number": "NaN" | "Infinity" | "-Infinity"}.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

MAGIC = b"QKVZBNDL"
BUNDLE_VERSION = 2
OLDEST_READABLE_VERSION = 1
BUNDLE_KIND = "qkviz-run"
_PREAMBLE = 24
_DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "int32": np.dtype("<i4"), "uint8": np.dtype("u1")}
_NAMES = {v: k for k, v in _DTYPES.items()}


class BundleError(Exception):
    """A file that is not a bundle, a newer format, truncated or corrupt: `code` says which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _align8(n: int) -> int:
    return (n + 7) // 8 * 8


def _revive(value: Dict[str, Any]) -> Any:
    if len(value) == 1 and isinstance(value.get("$number"), str):
        return float(value["$number"])
    return value


def _plain(value: Any) -> Any:
    """JSON as the page writes it: arrays as lists, non-finite numbers as {"$number": ...}."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isfinite(v):
            return v
        return {"$number": "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _crc32(buffer: Union[bytes, memoryview, np.ndarray]) -> int:
    view = memoryview(buffer)
    return zlib.crc32(view.cast("B") if view.nbytes else b"") & 0xFFFFFFFF


def _chunk_crcs(raw: np.ndarray, chunks: int) -> List[int]:
    size = raw.nbytes // chunks
    flat = raw.reshape(-1).view(np.uint8)
    return [_crc32(flat[c * size : (c + 1) * size]) for c in range(chunks)]


@dataclass
class Container:
    version: int
    meta: Dict[str, Any]
    arrays: Dict[str, np.ndarray]
    infos: List[Dict[str, Any]]


def read_container(path: Union[str, Path], verify: bool = True) -> Container:
    """Reads a bundle's header and maps its arrays (numpy memmaps, not read into memory); `verify` checks every checksum."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        preamble = f.read(_PREAMBLE)
        if len(preamble) < _PREAMBLE or preamble[:8] != MAGIC:
            raise BundleError("not-a-bundle", f"{path.name} is not a QKViz bundle (.qkviz): it does not start with the bundle signature.")
        version, length, header_crc = np.frombuffer(preamble, "<u4", 3, 8).tolist()
        if version < OLDEST_READABLE_VERSION or version > BUNDLE_VERSION:
            raise BundleError(
                "version",
                f"{path.name} is format {version}; this qkviz reads formats {OLDEST_READABLE_VERSION} to {BUNDLE_VERSION}"
                + (" (made by a newer QKViz: update the package)." if version > BUNDLE_VERSION else "."),
            )
        if _PREAMBLE + length > size:
            raise BundleError("truncated", f"{path.name} is truncated: its header needs {_PREAMBLE + length} bytes, the file has {size}.")
        header = f.read(length)
    if _crc32(header) != header_crc:
        raise BundleError("corrupt", f"{path.name} is corrupt: its header does not match its checksum.")
    try:
        parsed = json.loads(header.decode("utf-8"), object_hook=_revive)
    except ValueError:
        raise BundleError("corrupt", f"{path.name} is corrupt: its header is not valid JSON.") from None
    start = _align8(_PREAMBLE + length)
    arrays: Dict[str, np.ndarray] = {}
    for info in parsed["arrays"]:
        end = start + info["offset"] + info["byteLength"]
        if end > size:
            raise BundleError("truncated", f"{path.name} is truncated: {info['name']} runs to byte {end:,}, the file has {size:,}.")
        dtype = _DTYPES[info["dtype"]]
        shape = tuple(info["shape"])
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != info["byteLength"]:
            raise BundleError("corrupt", f"{path.name} is corrupt: {info['name']}'s shape does not match its length.")
        array = (
            np.memmap(path, dtype=dtype, mode="r", offset=start + info["offset"], shape=shape)
            if info["byteLength"]
            else np.zeros(shape, dtype)
        )
        if verify:
            good = (
                _chunk_crcs(np.asarray(array), len(info["chunks"])) == info["chunks"]
                if "chunks" in info
                else _crc32(np.ascontiguousarray(array)) == info["crc32"]
            )
            if not good:
                raise BundleError("corrupt", f"{path.name} is corrupt: {info['name']} does not match its checksum.")
        arrays[info["name"]] = array
    return Container(version, parsed["meta"], arrays, parsed["arrays"])


@dataclass
class Streamed:
    """An array written a chunk at a time (one head of a run too big to hold, read from shards):
    `chunk(i)` gives the i-th of `chunks` equal pieces along the first axes, in order."""

    shape: Tuple[int, ...]
    dtype: str
    chunks: int
    chunk: Callable[[int], np.ndarray]


ArraySpec = Union[np.ndarray, Tuple[np.ndarray, int], Streamed]

#: The widest a CRC-32 is in JSON: the header is sized with it, then the real one padded to that size.
_WIDEST_CRC = 0xFFFFFFFF


def _as_streamed(name: str, spec: ArraySpec) -> Tuple[Streamed, bool]:
    """Any array spec as chunks; the flag says whether its checksum is per chunk."""
    if isinstance(spec, Streamed):
        return spec, True
    array, chunks = spec if isinstance(spec, tuple) else (spec, 0)
    array = np.ascontiguousarray(array)
    if array.dtype.newbyteorder("<") not in _NAMES:
        raise ValueError(f"{name}: {array.dtype} is not float32, float16, int32 or uint8")
    array = array.astype(array.dtype.newbyteorder("<"), copy=False)
    if chunks and array.nbytes % chunks:
        raise ValueError(f"{name}: {array.nbytes} bytes do not split into {chunks} equal chunks")
    flat = array.reshape(max(chunks, 1), -1) if array.size else array.reshape(max(chunks, 1), 0)
    return Streamed(tuple(array.shape), _NAMES[array.dtype], max(chunks, 1), lambda i: flat[i]), bool(chunks)


def write_container(path: Union[str, Path], meta: Mapping[str, Any], arrays: Mapping[str, ArraySpec], version: int = BUNDLE_VERSION) -> int:
    """Writes a bundle: `arrays` maps a name to an array (float32, float16 or int32), to (array, chunks)
    to checksum it in that many equal chunks, or to a `Streamed` array written chunk by chunk (never
    whole in memory). Returns the file's size in bytes."""
    streams = []
    infos = []
    offset = 0
    for name, spec in arrays.items():
        stream, chunked = _as_streamed(name, spec)
        dtype = _DTYPES[stream.dtype]
        nbytes = int(np.prod(stream.shape, dtype=np.int64)) * dtype.itemsize
        info: Dict[str, Any] = {"name": name, "dtype": stream.dtype, "shape": list(stream.shape), "offset": offset, "byteLength": nbytes}
        info["chunks" if chunked else "crc32"] = [_WIDEST_CRC] * stream.chunks if chunked else _WIDEST_CRC
        infos.append(info)
        streams.append(stream)
        offset = _align8(offset + nbytes)
    encode = lambda: json.dumps(_plain({"meta": meta, "arrays": infos}), separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    widest = len(encode())
    start = _align8(_PREAMBLE + widest)
    with open(path, "wb") as f:
        f.seek(start)
        at = 0
        for info, stream in zip(infos, streams):
            f.write(b"\0" * (info["offset"] - at))
            crcs = []
            size = info["byteLength"] // stream.chunks
            for i in range(stream.chunks):
                piece = np.ascontiguousarray(stream.chunk(i), dtype=_DTYPES[stream.dtype])
                if piece.nbytes != size:
                    raise ValueError(f"{info['name']}: chunk {i} has {piece.nbytes} bytes, not {size}")
                view = memoryview(piece).cast("B")
                crcs.append(_crc32(view))
                f.write(view)
            if "chunks" in info:
                info["chunks"] = crcs
            else:
                info["crc32"] = crcs[0]
            at = info["offset"] + info["byteLength"]
        f.write(b"\0" * (offset - at))
        # The real header, padded with spaces (JSON whitespace) to the size the data was placed after.
        header = encode()
        header += b" " * (widest - len(header))
        f.seek(0)
        f.write(MAGIC)
        f.write(np.array([version, len(header), _crc32(header), 0], "<u4").tobytes())
        f.write(header)
        f.write(b"\0" * (start - _PREAMBLE - len(header)))
    return start + offset


class Run:
    """A QKViz run read from a bundle: tokens, every head's queries and keys, layouts, figures."""

    def __init__(self, container: Container):
        meta = container.meta
        if meta.get("kind") != BUNDLE_KIND:
            raise BundleError("not-a-bundle", "This bundle does not hold a QKViz run.")
        self.version = container.version
        self.meta = meta
        self.arrays = container.arrays
        data = meta["data"]
        self.model: str = data["model"]
        self.layers: int = data["layers"]
        self.heads: int = data["heads"]
        self.head_dim: int = data["headDim"]
        self.kv_heads: int = data.get("kvHeads") or self.heads
        self.causal: bool = bool(data.get("causal", False))
        self.rotary: Optional[str] = data.get("rotary")
        self.tokens: List[List[str]] = [s["tokens"] for s in data["sentences"]]
        self.ids: List[List[int]] = [s["ids"] for s in data["sentences"]]
        lengths = np.array([len(ids) for ids in self.ids], dtype=np.int64)
        self.sentence_starts = np.concatenate([[0], np.cumsum(lengths)])
        self.token_count = int(self.sentence_starts[-1])
        # The corpus as it was given (a sentence longer than the model's limit is split into parts above).
        self.sentences: List[str] = meta.get("corpus") or [s["text"] for s in data["sentences"]]
        self.attention_specs: List[Dict[str, float]] = data.get("attention") or [{"scale": 1 / math.sqrt(self.head_dim)}] * self.layers
        self.label: str = meta.get("label", "")
        self.created_by: str = meta.get("createdBy", "")
        self.views_only = meta.get("contents") == "views" or "queries" not in self.arrays
        self.layouts = [
            {"mode": l["mode"], "method": l["method"], "dims": l["dims"], "coords": self.arrays[l["array"]]} for l in meta.get("layouts", [])
        ]
        self.similarities = {s["kind"]: self.arrays[s["array"]] for s in meta.get("similarities", [])}

    @property
    def queries(self) -> Optional[np.ndarray]:
        """[layers, heads, tokens, head_dim] (float32 or float16, as stored), or None for a views bundle."""
        return self.arrays.get("queries")

    @property
    def keys(self) -> Optional[np.ndarray]:
        """[layers, key heads, tokens, head_dim]: one per key head (grouped-query models share them)."""
        return self.arrays.get("keys")

    def _vectors(self) -> Tuple[np.ndarray, np.ndarray]:
        if self.views_only:
            raise BundleError("views-only", "This bundle holds layouts and figures, not the queries and keys (written with --contents views).")
        return self.arrays["queries"], self.arrays["keys"]

    def key_head(self, head: int) -> int:
        """The key head a query head reads (grouped-query attention)."""
        return head // (self.heads // self.kv_heads)

    def query(self, layer: int, head: int, dtype: Any = np.float32) -> np.ndarray:
        """A head's queries, [tokens, head_dim]."""
        return np.asarray(self._vectors()[0][layer, head], dtype=dtype)

    def key(self, layer: int, head: int, dtype: Any = np.float32) -> np.ndarray:
        """A query head's keys (its group's), [tokens, head_dim]."""
        return np.asarray(self._vectors()[1][layer, self.key_head(head)], dtype=dtype)

    def sentence_tokens(self, sentence: int) -> slice:
        """The rows of `sentence` in a head's [tokens, ...] arrays."""
        return slice(int(self.sentence_starts[sentence]), int(self.sentence_starts[sentence + 1]))

    def attention(self, layer: int, head: int, sentence: int) -> np.ndarray:
        """softmax(scale · q·k) over one sentence as the model computes it (causal, sliding window and
        soft-capping as the layer says), in float64 from the stored (rotated) vectors: [queries, keys]."""
        rows = self.sentence_tokens(sentence)
        rotated = self.rotary == "pre"
        queries = self.arrays["rotated-queries"] if rotated else self._vectors()[0]
        keys = self.arrays["rotated-keys"] if rotated else self._vectors()[1]
        q = np.asarray(queries[layer, head, rows], dtype=np.float64)
        k = np.asarray(keys[layer, self.key_head(head), rows], dtype=np.float64)
        from .analysis import attention_of

        return attention_of(q[None], k[None], self.attention_specs[layer], self.causal)[0]

    def model_attention(self, layer: int, head: int) -> Dict[int, np.ndarray]:
        """The model's own attention, kept for a sample of sentences (to check attention recomputed from Q/K): sentence → [n, n]."""
        sampled = self.meta["data"].get("attentionSample") or []
        values = self.arrays.get("attention-sample")
        out: Dict[int, np.ndarray] = {}
        at = 0
        for s in sampled:
            n = len(self.ids[s])
            if values is not None:
                out[s] = np.asarray(values[layer, head, at : at + n * n], dtype=np.float32).reshape(n, n)
            at += n * n
        return out

    def figures(self, layer: int, head: int, mode: str = "optimized") -> Dict[str, Any]:
        """A head's figures (SPEC §3) under a normalization mode ("raw", "paper" or "optimized"), and its attention figures."""
        report = self.meta["analysis"]["heads"][layer * self.heads + head]
        return {**report["metrics"][mode], "attention": report.get("attention")}

    def __repr__(self) -> str:
        return (
            f"<qkviz.Run {self.model}: {self.layers} × {self.heads} heads, {self.token_count:,} tokens, "
            f"{len(self.sentences):,} sentences{', views only' if self.views_only else ''}>"
        )


def read_bundle(path: Union[str, Path], verify: bool = True) -> Run:
    """Opens a .qkviz bundle written by the page, the CLI or qkviz (Python); arrays stay on disk (memory-mapped)."""
    return Run(read_container(path, verify))
