"""Value-side references for the tiny checkpoints of scripts/make-reference-models.py, from the
real `transformers` library in float64.

Loads each COMMITTED checkpoint in tests/fixtures/hub/qkviz-test/<name>/ (eager attention, cast
to float64; the checkpoint is never regenerated), runs each sentence of reference/tokens.json
`ids` alone, and writes into reference/ these .npy float64 arrays, concatenated over the
sentences on the token axis (N = all sentences' tokens in order), as the other references are:
  v [layers, kv_heads, N, d]          the value projection's output (bias included), split per
                                      key/value head (grouped-query models have fewer heads)
  f [layers, heads, N, hidden]        each query head h's value vectors through its slice of
                                      the attention output projection, no output bias:
                                      f_h(x_j) = v_kv(h)(j) · W_O[:, h·d:(h+1)·d]ᵀ,
                                      kv(h) = h // (heads / kv_heads)
  head_out [layers, heads, N, hidden] what each head writes: the output projection's INPUT
                                      (the attention context, hooked with a forward pre-hook)
                                      sliced per head through the same W_O slice, no bias;
                                      equals Σ_j α_ij · f_h(x_j)
  attn_out [layers, N, hidden]        the output projection's output (bias included)
W_O is taken from the module (nn.Linear weight is [out, in]; GPT-2's Conv1D is [in, out]).
Where the value comes from: bert/roberta attention.self.value → attention.output.dense;
distilbert attention.v_lin → out_lin; gpt2 attn.c_attn split in three (q, k, v) → c_proj;
llama/qwen2/qwen3/mistral/gemma/gemma2/gemma3 self_attn.v_proj → o_proj (none of these applies
a norm to v: qwen3 and gemma3 normalise only q and k); phi3 self_attn.qkv_proj, fused as q
(heads·d), k (kv_heads·d), v (kv_heads·d) → o_proj; gpt_neox attention.query_key_value, laid
out per head as [heads, 3 (q, k, v), d] → attention.dense; opt self_attn.v_proj → out_proj.
Only v and head_out are written (f and attn_out are checked here, then dropped to keep the
committed fixtures small: f is v through W_O, which a test redoes from the checkpoint).
Self-checks, asserted and printed per model: Σ_h head_out + output bias = attn_out (1e-10
relative); Σ_j α_ij f_h(x_j) = head_out with the model's own output_attentions α (1e-8
relative; α is the very tensor the library multiplies the values by, so even the rotary
models' float32 softmax agrees to float64 rounding); v's shape against the committed k_pre/q_pre,
and the q/k from the same hooks equal to the committed q_pre/k_pre where those are raw
projections (all but qwen3 and gemma3, whose q_pre/k_pre follow q_norm/k_norm).
Run from the repository root with the reference virtualenv's Python:
  .cache/reference-venv/bin/python scripts/make-value-references.py [NAME…]   (all when none)
"""
import json
import pathlib
import sys

import numpy as np
import torch

SAVED = ("v", "head_out")
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hub" / "qkviz-test"
MODELS = {"tiny-bert": "bert", "tiny-roberta": "roberta", "tiny-distilbert": "distilbert", "tiny-gpt2": "gpt2", "tiny-llama": "llama", "tiny-qwen2": "qwen2", "tiny-qwen3": "qwen3",
          "tiny-mistral": "mistral", "tiny-gemma": "gemma", "tiny-gemma2": "gemma2", "tiny-gemma3": "gemma3", "tiny-phi3": "phi3", "tiny-pythia": "gpt_neox",
          "tiny-opt": "opt", "tiny-opt-350m-layout": "opt350"}
DECODERS = ("llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2", "gemma3")
QK_NORMED = ("qwen3", "gemma3")  # committed q_pre/k_pre are after q_norm/k_norm, not raw projections
ONLY = set(sys.argv[1:])


def geometry(kind: str, config) -> tuple[int, int, int]:
    """(heads, kv_heads, head_dim)."""
    if kind == "distilbert":
        return config.n_heads, config.n_heads, config.dim // config.n_heads
    if kind == "gpt2":
        return config.n_head, config.n_head, config.n_embd // config.n_head
    heads = config.num_attention_heads
    kv = getattr(config, "num_key_value_heads", None) or heads
    d = getattr(config, "head_dim", None) or config.hidden_size // heads
    return heads, kv, d


def attention_modules(kind: str, model) -> list[tuple[torch.nn.Module, torch.nn.Module]]:
    """Per layer: (the module whose output holds the values, the output projection)."""
    if kind in ("bert", "roberta"):
        return [(l.attention.self, l.attention.output.dense) for l in model.encoder.layer]
    if kind == "distilbert":
        return [(l.attention, l.attention.out_lin) for l in model.transformer.layer]
    if kind == "gpt2":
        return [(b.attn, b.attn.c_proj) for b in model.h]
    if kind == "gpt_neox":
        return [(l.attention, l.attention.dense) for l in model.layers]
    if kind in ("opt", "opt350"):
        return [(l.self_attn, l.self_attn.out_proj) for l in model.decoder.layers]
    return [(l.self_attn, l.self_attn.o_proj) for l in model.layers]


def out_weight(kind: str, proj) -> torch.Tensor:
    """W_O as [hidden_out, heads·d] (nn.Linear layout)."""
    return proj.weight.t() if kind == "gpt2" else proj.weight


def capture(kind: str, model, ids: list[int]) -> dict:
    """One sentence: per layer q/k/v [heads, n, d], context [n, heads·d], attn_out [n, hidden], α."""
    heads, kv_heads, d = geometry(kind, model.config)
    rec = {"q": [], "k": [], "v": [], "context": [], "attn_out": []}

    def split(t, h):  # [1, n, h·d] → [h, n, d]
        return t[0].reshape(t.shape[1], h, d).transpose(0, 1)

    def on(key, h):
        return lambda _m, _i, out: rec[key].append(split(out, h))

    hooks = []
    for att, proj in attention_modules(kind, model):
        if kind in ("bert", "roberta"):
            pairs = [(att.query, "q", heads), (att.key, "k", heads), (att.value, "v", heads)]
        elif kind == "distilbert":
            pairs = [(att.q_lin, "q", heads), (att.k_lin, "k", heads), (att.v_lin, "v", heads)]
        elif kind in DECODERS or kind in ("opt", "opt350"):
            pairs = [(att.q_proj, "q", heads), (att.k_proj, "k", kv_heads), (att.v_proj, "v", kv_heads)]
        else:
            pairs = []
        for mod, key, h in pairs:
            hooks.append(mod.register_forward_hook(on(key, h)))
        if kind == "gpt2":
            def fused(_m, _i, out):
                q, k, v = out.split(heads * d, dim=2)
                rec["q"].append(split(q, heads)); rec["k"].append(split(k, heads)); rec["v"].append(split(v, heads))
            hooks.append(att.c_attn.register_forward_hook(fused))
        elif kind == "phi3":
            def fused(_m, _i, out):
                q, k, v = out.split([heads * d, kv_heads * d, kv_heads * d], dim=2)
                rec["q"].append(split(q, heads)); rec["k"].append(split(k, kv_heads)); rec["v"].append(split(v, kv_heads))
            hooks.append(att.qkv_proj.register_forward_hook(fused))
        elif kind == "gpt_neox":
            def fused(_m, _i, out):  # [1, n, heads·3·d] laid out per head as [heads, 3, d]
                per = out[0].reshape(out.shape[1], heads, 3, d).permute(2, 1, 0, 3)  # [3, heads, n, d]
                rec["q"].append(per[0]); rec["k"].append(per[1]); rec["v"].append(per[2])
            hooks.append(att.query_key_value.register_forward_hook(fused))
        hooks.append(proj.register_forward_pre_hook(lambda _m, args: rec["context"].append(args[0][0])))
        hooks.append(proj.register_forward_hook(lambda _m, _i, out: rec["attn_out"].append(out[0])))
    try:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]), output_attentions=True)
    finally:
        for h in hooks:
            h.remove()
    result = {key: torch.stack(val) for key, val in rec.items()}
    result["alpha"] = torch.stack([a[0] for a in out.attentions])  # [layers, heads, n, n]
    return result


def rel(err: torch.Tensor, ref: torch.Tensor) -> float:
    return float(err.abs().max() / ref.abs().max())


def main() -> None:
    for name, kind in MODELS.items():
        if ONLY and name not in ONLY:
            continue
        folder = ROOT / name
        refdir = folder / "reference"
        tokens = json.loads((refdir / "tokens.json").read_text())
        model = transformers.AutoModel.from_pretrained(folder, attn_implementation="eager").double().eval()
        heads, kv_heads, d = geometry(kind, model.config)
        assert heads % kv_heads == 0
        group = heads // kv_heads
        pairs = attention_modules(kind, model)
        w_o = [out_weight(kind, proj).detach() for _att, proj in pairs]  # [hidden, heads·d]
        bias = [proj.bias.detach() if proj.bias is not None else torch.zeros(w.shape[0], dtype=w.dtype) for (_a, proj), w in zip(pairs, w_o)]
        hidden = w_o[0].shape[0]
        assert all(w.shape == (hidden, heads * d) for w in w_o), [w.shape for w in w_o]

        runs, err_sum, err_alpha = [], 0.0, 0.0
        with torch.no_grad():
            for ids in tokens["ids"]:
                r = capture(kind, model, ids)
                layers, n = r["v"].shape[0], len(ids)
                assert r["q"].shape == (layers, heads, n, d) and r["k"].shape == (layers, kv_heads, n, d), (r["q"].shape, r["k"].shape)
                assert r["v"].shape == (layers, kv_heads, n, d), r["v"].shape
                assert r["context"].shape == (layers, n, heads * d) and r["attn_out"].shape == (layers, n, hidden)
                assert r["alpha"].shape == (layers, heads, n, n), r["alpha"].shape
                f = torch.empty(layers, heads, n, hidden, dtype=torch.float64)
                head_out = torch.empty_like(f)
                for l in range(layers):
                    for h in range(heads):
                        w = w_o[l][:, h * d:(h + 1) * d]  # [hidden, d]
                        f[l, h] = r["v"][l, h // group] @ w.t()
                        head_out[l, h] = r["context"][l][:, h * d:(h + 1) * d] @ w.t()
                    err_sum = max(err_sum, rel(head_out[l].sum(0) + bias[l] - r["attn_out"][l], r["attn_out"][l]))
                    err_alpha = max(err_alpha, rel(torch.einsum("hij,hjc->hic", r["alpha"][l], f[l]) - head_out[l], head_out[l]))
                r["f"], r["head_out"] = f, head_out
                runs.append(r)
        assert err_sum < 1e-10, f"{name}: Σ_h head_out + b vs attn_out {err_sum:.3e}"
        assert err_alpha < 1e-8, f"{name}: Σ_j α f vs head_out {err_alpha:.3e}"

        arrays = {key: np.concatenate([r[key].numpy() for r in runs], axis=2) for key in ("v", "f", "head_out")}
        arrays["attn_out"] = np.concatenate([r["attn_out"].numpy() for r in runs], axis=1)
        q = np.concatenate([r["q"].numpy() for r in runs], axis=2)
        k = np.concatenate([r["k"].numpy() for r in runs], axis=2)
        q_pre, k_pre = np.load(refdir / "q_pre.npy"), np.load(refdir / "k_pre.npy")
        assert arrays["v"].shape == k_pre.shape and q.shape == q_pre.shape, (arrays["v"].shape, k_pre.shape, q.shape, q_pre.shape)
        layers, _, total, _ = arrays["v"].shape
        assert total == sum(len(i) for i in tokens["ids"]) and arrays["f"].shape == arrays["head_out"].shape == (layers, heads, total, hidden)
        assert arrays["attn_out"].shape == (layers, total, hidden)
        if kind in QK_NORMED:
            qk = "q/k hooks vs q_pre/k_pre: n/a (normed)"
        else:
            err_qk = max(float(np.abs(q - q_pre).max() / np.abs(q_pre).max()), float(np.abs(k - k_pre).max() / np.abs(k_pre).max()))
            assert err_qk < 1e-12, f"{name}: q/k hooks vs committed q_pre/k_pre {err_qk:.3e}"
            qk = f"q/k hooks vs q_pre/k_pre {err_qk:.1e}"
        # Committed: v and head_out (f is v through W_O, which tests redo in float64 from the
        # checkpoint; attn_out only backs the check above). Keeps the fixtures small.
        for key in SAVED:
            np.save(refdir / f"{key}.npy", arrays[key].astype(np.float64))
        print(f"{name}: {kind}, heads {heads}/kv {kv_heads}, d {d}, " + ", ".join(f"{k} {list(v.shape)}" for k, v in arrays.items())
              + f"; Σ_h head_out+b vs attn_out {err_sum:.1e}, Σ_j α f vs head_out {err_alpha:.1e}, {qk}", file=sys.stderr)


if __name__ == "__main__":
    main()
