"""Queries and keys of a PyTorch model, captured in Python the way the page extracts them.

`capture` reads a Hugging Face transformers model through forward hooks; `from_transformer_lens`
reads a TransformerLens HookedTransformer through its hook points. Both give a `Capture`: every
head's queries and keys over a corpus (one sentence at a time, no padding), how each layer turns
q·k into attention, and the model's own attention on a sample of sentences, which is what the
page checks its recomputed attention against. The conventions are lib/'s (the page's):

- queries and keys are the vectors whose scaled dot product is the attention logit: for rotary
  models after the rotation ("post"), for OPT before its query scaling (the scale is in the spec);
- keys are stored once per key/value head; query head h reads key head h // (heads // kv_heads);
- logits = scale · q·k, then soft-capping cap·tanh(logit/cap), then a sliding window (a query sees
  only keys fewer than `window` tokens behind it) and, in a decoder, the causal mask.

torch, transformers and transformer_lens are imported only when these functions run, so
`import qkviz` needs none of them.
"""

from __future__ import annotations

import importlib
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .analysis import attention_of
from .write import SAMPLE_BYTES, SAMPLE_SENTENCES, sample_sentences

BERT_FAMILY = ("bert", "roberta", "xlm-roberta", "camembert", "distilbert")
ROTARY_FAMILY = ("llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2", "gemma3", "gemma3_text", "phi3", "gpt_neox")
SUPPORTED_MODEL_TYPES = BERT_FAMILY + ("gpt2", "opt") + ROTARY_FAMILY
# RoBERTa-style models number positions from pad_token_id + 1, so fewer tokens fit their table.
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert")


class UnsupportedModelError(ValueError):
    """A model whose attention capture cannot read; the message names it and what is supported."""


@dataclass
class Capture:
    """Every head's queries and keys over a corpus, with what the page needs to show and check them."""

    model: str
    texts: List[str]
    tokens: List[List[str]]
    ids: List[List[int]]
    # [layers, heads, N, head_dim], N = all sentences' tokens end to end.
    queries: np.ndarray
    # [layers, kv_heads, N, head_dim]: one per key/value head, groups not repeated.
    keys: np.ndarray
    causal: bool
    # Per layer: {"scale": float, "softcap"?: float, "window"?: int} (lib/data/attention.ts's AttentionSpec).
    attention: List[Dict[str, Any]]
    # "post" for rotary models (the vectors after the rotation), else None.
    rotary: Optional[str] = None
    # {sentence index: [layers, heads, n, n]} the model's own attention, rows = queries.
    attention_sample: Dict[int, np.ndarray] = field(default_factory=dict)
    # Where it ran and with what, in words (the page's device badge and model card).
    device: str = "PyTorch"
    library: str = "PyTorch"

    @property
    def layers(self) -> int:
        return int(self.queries.shape[0])

    @property
    def heads(self) -> int:
        return int(self.queries.shape[1])

    @property
    def kv_heads(self) -> int:
        return int(self.keys.shape[1])

    @property
    def head_dim(self) -> int:
        return int(self.queries.shape[3])

    @property
    def sentence_starts(self) -> np.ndarray:
        """Row of each sentence's first token, and the total at the end (length sentences + 1)."""
        return np.concatenate([[0], np.cumsum([len(i) for i in self.ids])]).astype(np.int64)

    def key_head(self, head: int) -> int:
        """The key/value head query head `head` reads (grouped-query attention)."""
        return head // (self.heads // self.kv_heads)

    def key(self, layer: int, head: int) -> np.ndarray:
        """Query head `head`'s keys [N, head_dim]: its group's."""
        return self.keys[layer, self.key_head(head)]

    def sentence_tokens(self, s: int) -> slice:
        """The token rows of sentence s."""
        starts = self.sentence_starts
        return slice(int(starts[s]), int(starts[s + 1]))

    def attention_from_qk(self, layer: int, head: int, sentence: int) -> np.ndarray:
        """Sentence `sentence`'s attention [n, n] in one head, recomputed in float64 from the stored q/k by the spec."""
        rows = self.sentence_tokens(sentence)
        q = self.queries[layer, head, rows].astype(np.float64)
        k = self.key(layer, head)[rows].astype(np.float64)
        return attention_probabilities(q, k, self.attention[layer], self.causal)

    def bundle_fields(self) -> Dict[str, Any]:
        """What qkviz.write.write_bundle takes from a capture."""
        return dict(
            tokens=self.tokens,
            ids=self.ids,
            texts=self.texts,
            queries=self.queries,
            keys=self.keys,
            model=self.model,
            causal=self.causal,
            attention=self.attention,
            rotary=self.rotary,
            attention_sample=self.attention_sample,
            device=self.device,
            library=self.library,
        )

    def save(self, path: Any, **kw: Any) -> Any:
        """Writes a .qkviz bundle the page opens (qkviz.write.write_bundle; `kw` go to it)."""
        from .write import write_bundle

        return write_bundle(path, **self.bundle_fields(), **kw)


def attention_probabilities(q: np.ndarray, k: np.ndarray, spec: Dict[str, Any], causal: bool) -> np.ndarray:
    """softmax over keys of scale·q·k (soft-capped, windowed, causal), float64 [n queries, n keys]."""
    return attention_of(q[None], k[None], spec, causal)[0]


def _as_texts(texts: Union[str, Sequence[str]]) -> List[str]:
    if isinstance(texts, str):
        return [texts]
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty: give at least one sentence")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"text {i} is a {type(t).__name__}, not a str")
    return texts


def _to_numpy(t: Any) -> np.ndarray:
    return t.detach().to("cpu", dtype=_torch().float32).numpy()


def _torch() -> Any:
    return importlib.import_module("torch")


def _check_length(texts: List[str], ids: List[List[int]], most: Optional[int], model: str, source: str) -> None:
    """A text longer than the model's position table fails here, naming it, rather than deep in the model."""
    for i, row in enumerate(ids):
        if not row:
            raise ValueError(f"text {i} ({texts[i]!r}) has no tokens")
        if most is not None and len(row) > most:
            preview = texts[i] if len(texts[i]) <= 60 else texts[i][:57] + "..."
            raise ValueError(f"text {i} ({preview!r}) is {len(row)} tokens long; {model} reads at most {most} ({source}): split it")


def _stack_layers(per_layer: List[Any], what: str, layers: int, model: str) -> np.ndarray:
    if len(per_layer) != layers:
        raise RuntimeError(f"{model}: captured {what} from {len(per_layer)} attention calls in one forward pass, expected {layers} (one per layer)")
    return np.stack([_to_numpy(t) for t in per_layer])


def _assemble(
    name: str,
    texts: List[str],
    tokens: List[List[str]],
    ids: List[List[int]],
    runs: Callable[[int, bool], Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]],
    causal: bool,
    attention: Callable[[int], List[Dict[str, Any]]],
    rotary: Optional[str],
    sample: Union[int, Sequence[int]],
    heads_hint: int,
    layers_hint: int,
) -> Capture:
    """Runs every sentence (its attention kept for the sampled ones) and concatenates the vectors along tokens."""
    sampled = set(sample_sentences([len(i) for i in ids], layers_hint * heads_hint, sample)) if isinstance(sample, int) else set(sample)
    queries, keys, own = [], [], {}
    for s in range(len(texts)):
        q, k, a = runs(s, s in sampled)
        queries.append(q)
        keys.append(k)
        if a is not None:
            own[s] = a
    q_all = np.ascontiguousarray(np.concatenate(queries, axis=2), dtype=np.float32)
    k_all = np.ascontiguousarray(np.concatenate(keys, axis=2), dtype=np.float32)
    if q_all.shape[1] % k_all.shape[1]:
        raise RuntimeError(f"{name}: {q_all.shape[1]} query heads do not split into {k_all.shape[1]} key heads")
    return Capture(
        model=name,
        texts=texts,
        tokens=tokens,
        ids=ids,
        queries=q_all,
        keys=k_all,
        causal=causal,
        attention=attention(q_all.shape[3]),
        rotary=rotary,
        attention_sample=own,
    )


# ---------------------------------------------------------------------------------------------
# Hugging Face transformers


def _text_config(config: Any) -> Any:
    """The language model's config (a multimodal Gemma 3 keeps it under text_config)."""
    get = getattr(config, "get_text_config", None)
    return get() if callable(get) else config


def _model_type(model: Any) -> str:
    config = model.config
    outer = str(getattr(config, "model_type", "") or "")
    inner = str(getattr(_text_config(config), "model_type", "") or outer)
    return outer if outer in SUPPORTED_MODEL_TYPES else inner


def _family_check(model: Any) -> str:
    kind = _model_type(model)
    if kind not in SUPPORTED_MODEL_TYPES:
        arch = (getattr(model.config, "architectures", None) or [type(model).__name__])[0]
        raise UnsupportedModelError(
            f'model_type "{kind}" ({arch}) is not supported by qkviz.capture. Supported: {", ".join(SUPPORTED_MODEL_TYPES)}.'
        )
    config = _text_config(model.config)
    if kind in BERT_FAMILY and getattr(config, "position_embedding_type", "absolute") not in (None, "absolute"):
        raise UnsupportedModelError(f'{kind}: position_embedding_type "{config.position_embedding_type}" adds terms to q·k; only "absolute" is supported')
    if kind in ("gemma3", "gemma3_text") and getattr(config, "attn_logit_softcapping", None):
        raise UnsupportedModelError("gemma3: attn_logit_softcapping is not supported")
    return kind


def _max_tokens(kind: str, config: Any) -> Tuple[Optional[int], str]:
    most = getattr(config, "max_position_embeddings", None)
    if most is None:
        most = getattr(config, "n_positions", None)
    if most is None:
        return None, ""
    if kind in _OFFSET_POSITIONS:
        pad = getattr(config, "pad_token_id", None)
        offset = (1 if pad is None else int(pad)) + 1
        return int(most) - offset, f"max_position_embeddings {most} less the {offset} rows before the first position"
    return int(most), f"max_position_embeddings {most}"


def _sliding_layers(kind: str, config: Any, layers: int) -> List[bool]:
    """Which layers use the sliding window: layer_types when the config has them, else the family's pattern (as lib/model/decoders.ts)."""
    window = getattr(config, "sliding_window", None)
    if not isinstance(window, int) or isinstance(window, bool):
        return [False] * layers
    types = getattr(config, "layer_types", None)
    if isinstance(types, (list, tuple)) and len(types) == layers:
        return [t == "sliding_attention" for t in types]
    if kind in ("mistral", "phi3"):
        return [True] * layers
    if kind == "gemma2":
        return [l % 2 == 0 for l in range(layers)]
    if kind in ("gemma3", "gemma3_text"):
        pattern = getattr(config, "sliding_window_pattern", None) or 6
        return [(l + 1) % pattern != 0 for l in range(layers)]
    if kind in ("qwen2", "qwen3") and getattr(config, "use_sliding_window", False):
        start = getattr(config, "max_window_layers", 0) or 0
        return [l >= start for l in range(layers)]
    return [False] * layers


def _hf_attention(kind: str, config: Any, layers: int) -> Callable[[int], List[Dict[str, Any]]]:
    """Each layer's AttentionSpec, read from the config as the page reads it (lib/model/decoders.ts)."""

    def spec(head_dim: int) -> List[Dict[str, Any]]:
        if kind in ("gemma2", "gemma3", "gemma3_text"):
            scalar = getattr(config, "query_pre_attn_scalar", None) or head_dim
            scale = float(scalar) ** -0.5
        else:
            scale = 1.0 / math.sqrt(head_dim)
        softcap = getattr(config, "attn_logit_softcapping", None) if kind == "gemma2" else None
        window = getattr(config, "sliding_window", None)
        out = []
        for l, sliding in enumerate(_sliding_layers(kind, config, layers)):
            s = scale
            if kind == "gpt2":
                s = s if getattr(config, "scale_attn_weights", True) else 1.0
                s = s / (l + 1) if getattr(config, "scale_attn_by_inverse_layer_idx", False) else s
            layer: Dict[str, Any] = {"scale": s}
            if softcap:
                layer["softcap"] = float(softcap)
            if sliding:
                layer["window"] = int(window)
            out.append(layer)
        return out

    return spec


def _split_heads(t: Any, heads: int) -> Any:
    """[1, n, heads·d] → [heads, n, d]."""
    return t[0].reshape(t.shape[1], heads, -1).transpose(0, 1)


def _projection_hooks(kind: str, model: Any, heads: int, qs: List[Any], ks: List[Any]) -> List[Any]:
    """Forward hooks on the query and key projections of models without rotary positions, one pair per layer in order."""
    found = []
    for module in model.modules():
        if kind in BERT_FAMILY and kind != "distilbert" and hasattr(module, "query") and hasattr(module, "key") and hasattr(module, "value"):
            found.append((module.query, module.key, None))
        elif kind == "distilbert" and hasattr(module, "q_lin") and hasattr(module, "k_lin"):
            found.append((module.q_lin, module.k_lin, None))
        elif kind == "gpt2" and hasattr(module, "c_attn") and not getattr(module, "is_cross_attention", False):
            found.append((module.c_attn, None, module.split_size))
        elif kind == "opt" and hasattr(module, "q_proj") and hasattr(module, "k_proj") and type(module).__name__.endswith("Attention"):
            found.append((module.q_proj, module.k_proj, None))
    hooks = []
    for q_module, k_module, split in found:
        if split is not None:

            def fused(_m: Any, _i: Any, out: Any, split: int = split) -> None:
                q, k, _v = out.split(split, dim=2)
                qs.append(_split_heads(q, heads))
                ks.append(_split_heads(k, heads))

            hooks.append(q_module.register_forward_hook(fused))
        else:
            hooks.append(q_module.register_forward_hook(lambda _m, _i, out: qs.append(_split_heads(out, heads))))
            hooks.append(k_module.register_forward_hook(lambda _m, _i, out: ks.append(_split_heads(out, heads))))
    return hooks


@contextmanager
def _rotary_recorder(model: Any, qs: List[Any], ks: List[Any]) -> Iterator[None]:
    """Wraps the modeling module's apply_rotary_pos_emb for the forward: what it returns are the
    rotated q [1, heads, n, d] and k [1, kv_heads, n, d] attention uses (after Qwen3's and Gemma 3's q/k norms,
    with partial rotary's pass-through dimensions). The modules are those of the model's own classes
    (a subclass defined elsewhere still runs its base's attention). Not thread-safe: the module attribute is shared."""
    names = {type(m).__module__ for m in model.modules()} | {c.__module__ for c in type(model).__mro__}
    modules = [importlib.import_module(n) for n in sorted(names) if n.startswith("transformers.models.")]
    originals = {m: m.apply_rotary_pos_emb for m in modules if callable(getattr(m, "apply_rotary_pos_emb", None))}
    if not originals:
        raise UnsupportedModelError(f"{type(model).__name__}: no transformers modeling module with apply_rotary_pos_emb to read the rotated q/k from")

    def recorder(original: Callable[..., Any]) -> Callable[..., Any]:
        def record(q: Any, k: Any, *args: Any, **kwargs: Any) -> Any:
            qr, kr = original(q, k, *args, **kwargs)
            qs.append(qr[0])
            ks.append(kr[0])
            return qr, kr

        return record

    for module, original in originals.items():
        module.apply_rotary_pos_emb = recorder(original)
    try:
        yield
    finally:
        for module, original in originals.items():
            module.apply_rotary_pos_emb = original


@contextmanager
def _eager(model: Any, needed: bool) -> Iterator[None]:
    """Eager attention while the model's own attention probabilities are asked for (SDPA and flash kernels do not return them)."""
    current = getattr(model.config, "_attn_implementation", None)
    if not needed or current in (None, "eager"):
        yield
        return
    setter = getattr(model, "set_attn_implementation", None)
    if not callable(setter):
        raise UnsupportedModelError(f'{type(model).__name__} runs "{current}" attention, which returns no probabilities: load it with attn_implementation="eager"')
    setter("eager")
    try:
        yield
    finally:
        setter(current)


def _device_of(model: Any) -> Any:
    for p in model.parameters():
        return p.device
    return _torch().device("cpu")


def capture(
    model: Any,
    tokenizer: Any,
    texts: Union[str, Sequence[str]],
    *,
    device: Any = None,
    sample: Union[int, Sequence[int]] = SAMPLE_SENTENCES,
    name: Optional[str] = None,
) -> Capture:
    """Queries and keys of a Hugging Face transformers model (AutoModel, AutoModelForCausalLM, …) over `texts`.

    Each text runs alone (batch of one, no padding), tokenized with the tokenizer's defaults (special
    tokens added), so the vectors are the page's for the same model and corpus. `device` is where the
    inputs go (default: the model's); results are float32 numpy on the CPU. The model's own attention
    is kept for up to `sample` sentences spread over the corpus, or for the sentences `sample` lists (eager attention is switched on for them).
    """
    torch = _torch()
    texts = _as_texts(texts)
    kind = _family_check(model)
    config = _text_config(model.config)
    name = name or str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
    layers = int(getattr(config, "num_hidden_layers"))
    heads = int(getattr(config, "num_attention_heads"))
    ids = [list(map(int, tokenizer(t)["input_ids"])) for t in texts]
    most, source = _max_tokens(kind, config)
    _check_length(texts, ids, most, name, source)
    tokens = [list(tokenizer.convert_ids_to_tokens(row)) for row in ids]
    device = _device_of(model) if device is None else torch.device(device)
    rotary = kind in ROTARY_FAMILY

    def run(s: int, keep_attention: bool) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
        qs: List[Any] = []
        ks: List[Any] = []
        hooks: List[Any] = [] if rotary else _projection_hooks(kind, model, heads, qs, ks)
        recorder = _rotary_recorder(model, qs, ks) if rotary else _nothing()
        try:
            with torch.no_grad(), recorder, _eager(model, keep_attention):
                out = model(input_ids=torch.tensor([ids[s]], device=device), output_attentions=keep_attention)
        finally:
            for h in hooks:
                h.remove()
        q = _stack_layers(qs, "queries", layers, name)
        k = _stack_layers(ks, "keys", layers, name)
        own = None
        if keep_attention:
            got = getattr(out, "attentions", None)
            if not got or any(a is None for a in got):
                raise RuntimeError(f'{name} returned no attention probabilities: load it with attn_implementation="eager"')
            own = _stack_layers([a[0] for a in got], "attention", layers, name)
        return q, k, own

    was_training = model.training
    model.eval()
    try:
        captured = _assemble(name, texts, tokens, ids, run, kind not in BERT_FAMILY, _hf_attention(kind, config, layers), "post" if rotary else None, sample, heads, layers)
        captured.device = f"PyTorch {device}"
        captured.library = f"transformers {importlib.import_module('transformers').__version__}"
        return captured
    finally:
        model.train(was_training)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# ---------------------------------------------------------------------------------------------
# TransformerLens


def _tl_attention(cfg: Any) -> Callable[[int], List[Dict[str, Any]]]:
    """Each layer's AttentionSpec from a HookedTransformerConfig: scores = q·k / attn_scale, soft-capped, local layers windowed."""

    def spec(head_dim: int) -> List[Dict[str, Any]]:
        out = []
        types = list(getattr(cfg, "attn_types", None) or [])
        for l in range(cfg.n_layers):
            scale = 1.0
            if getattr(cfg, "use_attn_scale", True):
                attn_scale = float(getattr(cfg, "attn_scale", math.sqrt(head_dim)))
                if getattr(cfg, "scale_attn_by_inverse_layer_idx", False):
                    attn_scale *= l + 1
                scale = 1.0 / attn_scale
            layer: Dict[str, Any] = {"scale": scale}
            cap = getattr(cfg, "attn_scores_soft_cap", -1.0)
            if cap is not None and cap > 0:
                layer["softcap"] = float(cap)
            if getattr(cfg, "use_local_attn", False) and types and types[l % len(types)] == "local":
                layer["window"] = int(cfg.window_size)
            out.append(layer)
        return out

    return spec


def _tl_tokens(model: Any, ids: List[int]) -> List[str]:
    convert = getattr(getattr(model, "tokenizer", None), "convert_ids_to_tokens", None)
    if callable(convert):
        return list(convert(ids))
    return list(model.to_str_tokens(_torch().tensor(ids)))


def from_transformer_lens(
    model: Any,
    texts: Union[str, Sequence[str]],
    *,
    prepend_bos: Optional[bool] = None,
    sample: Union[int, Sequence[int]] = SAMPLE_SENTENCES,
) -> Capture:
    """Queries and keys of a TransformerLens HookedTransformer over `texts`, from its hook points.

    Each text runs alone, tokenized by model.to_tokens (`prepend_bos` None = the model's default).
    Rotary models' vectors are hook_rot_q/hook_rot_k (after the rotation), others hook_q/hook_k; keys
    are kept once per key/value head even where the model repeats them per query head. The model's
    own attention (hook_pattern) is kept for up to `sample` sentences spread over the corpus, or for those it lists.
    """
    torch = _torch()
    texts = _as_texts(texts)
    cfg = model.cfg
    name = str(getattr(cfg, "model_name", None) or type(model).__name__)
    layers, heads = int(cfg.n_layers), int(cfg.n_heads)
    kv_heads = int(getattr(cfg, "n_key_value_heads", None) or heads)
    rotary = getattr(cfg, "positional_embedding_type", "standard") == "rotary"
    q_hook, k_hook = ("hook_rot_q", "hook_rot_k") if rotary else ("hook_q", "hook_k")
    kwargs = {} if prepend_bos is None else {"prepend_bos": prepend_bos}
    rows = [model.to_tokens(t, **kwargs) for t in texts]
    ids = [list(map(int, r[0].tolist())) for r in rows]
    _check_length(texts, ids, getattr(cfg, "n_ctx", None), name, f"n_ctx {getattr(cfg, 'n_ctx', None)}")
    tokens = [_tl_tokens(model, row) for row in ids]

    def run(s: int, keep_attention: bool) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
        wanted = {f"blocks.{l}.attn.{h}" for l in range(layers) for h in (q_hook, k_hook)}
        if keep_attention:
            wanted |= {f"blocks.{l}.attn.hook_pattern" for l in range(layers)}
        with torch.no_grad():
            _, cache = model.run_with_cache(rows[s], names_filter=lambda n: n in wanted, return_type=None)
        q = np.stack([_to_numpy(cache[f"blocks.{l}.attn.{q_hook}"][0].transpose(0, 1)) for l in range(layers)])
        k = np.stack([_tl_keys(_to_numpy(cache[f"blocks.{l}.attn.{k_hook}"][0].transpose(0, 1)), heads, kv_heads, name) for l in range(layers)])
        own = np.stack([_to_numpy(cache[f"blocks.{l}.attn.hook_pattern"][0]) for l in range(layers)]) if keep_attention else None
        return q, k, own

    captured = _assemble(name, texts, tokens, ids, run, getattr(cfg, "attention_dir", "causal") == "causal", _tl_attention(cfg), "post" if rotary else None, sample, heads, layers)
    captured.device = f"PyTorch {getattr(cfg, 'device', None) or 'cpu'}"
    captured.library = f"TransformerLens {_version('transformer_lens')}"
    return captured


def _version(package: str) -> str:
    try:
        from importlib.metadata import version

        return version(package.replace("_", "-"))
    except Exception:
        return ""


def _tl_keys(k: np.ndarray, heads: int, kv_heads: int, name: str) -> np.ndarray:
    """[kv heads or heads, n, d] → one per key/value head: where the model already repeated a group's key, keep its first copy."""
    if k.shape[0] == kv_heads:
        return k
    if k.shape[0] == heads:
        return k[:: heads // kv_heads]
    raise RuntimeError(f"{name}: hook_k has {k.shape[0]} heads, expected {kv_heads} key heads or {heads} query heads")
