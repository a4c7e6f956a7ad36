"""Tiny random-weight checkpoints of every architecture QKViz converts, in the Hugging Face
hub's file layout, with reference outputs from the real `transformers` library in float64.

Writes tests/fixtures/hub/qkviz-test/<name>/: config.json, model.safetensors, the tokenizer
files (tokenizers trained here on a few sentences), and reference/: tokens.json (the
tokenizer's ids for each sentence with its defaults) and .npy float64 arrays over the
sentences, each run alone:
  q_pre [layers, heads, N, d]     queries as the attention sees them before any rotation
  k_pre [layers, kv_heads, N, d]  keys likewise (grouped-query models have fewer)
  q_post, k_post                  after the rotary embedding (rotary models only)
  attention [layers, heads, sum of n^2]  each sentence's [n, n] block, rows = queries
The library's rotary models take the softmax in float32 even in a float64 model, so their
attention is float32-exact (it equals softmax of q_post·k_post to ~2e-7); the others to 1e-15.
Run through scripts/make-reference-models.sh [NAME…] (all when none is named), which installs
torch and transformers into a virtualenv first; the results are committed so tests need neither.
"""
import json
import pathlib
import sys

import numpy as np
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

ROOT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hub" / "qkviz-test"
TRAINING = [
    "The quick brown fox jumps over the lazy dog.",
    "Attention lets every token look at every other token.",
    "Queries and keys meet in a dot product, scaled and soft-maxed.",
    "The brown capybara is sleeping now.",
    "A rotary embedding turns each pair of dimensions by an angle.",
    "Grouped keys are shared by several query heads.",
]
SENTENCES = ["The capybara is sleeping.", "Keys meet queries in every head!", "A dot product, scaled."]
torch.manual_seed(0)


def wordpiece() -> Tokenizer:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(TRAINING, trainers.WordPieceTrainer(vocab_size=160, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


def byte_bpe(specials: list[str]) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(TRAINING, trainers.BpeTrainer(vocab_size=300, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def tokenizers_for(kind: str) -> tuple[Tokenizer, dict]:
    if kind in ("bert", "distilbert"):
        return wordpiece(), dict(unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]")
    if kind == "roberta":
        tok = byte_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
        tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
        return tok, dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", cls_token="<s>", sep_token="</s>")
    if kind in ("gpt2", "gpt_neox"):
        return byte_bpe(["<|endoftext|>"]), dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    if kind in ("llama", "mistral", "gemma", "gemma2", "gemma3", "phi3", "opt", "opt350"):
        tok = byte_bpe(["<s>", "</s>", "<pad>"])
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
        return tok, dict(bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    return byte_bpe(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]), dict(eos_token="<|im_end|>", pad_token="<|endoftext|>")


def config_for(kind: str, vocab: int, specials: dict, tok: Tokenizer):
    c = transformers
    if kind == "bert":
        return c.BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=64, pad_token_id=tok.token_to_id("[PAD]"))
    if kind == "roberta":
        return c.RobertaConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=66, pad_token_id=tok.token_to_id("<pad>"), bos_token_id=tok.token_to_id("<s>"), eos_token_id=tok.token_to_id("</s>"), type_vocab_size=1)
    if kind == "distilbert":
        return c.DistilBertConfig(vocab_size=vocab, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64, pad_token_id=tok.token_to_id("[PAD]"))
    if kind == "gpt2":
        return c.GPT2Config(vocab_size=vocab, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=0, eos_token_id=0)
    if kind == "llama":
        return c.LlamaConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, intermediate_size=64, max_position_embeddings=128,
                             rope_theta=10000.0, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
                             bos_token_id=tok.token_to_id("<s>"), eos_token_id=tok.token_to_id("</s>"), tie_word_embeddings=False)
    small = dict(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=128)
    ids = dict(bos_token_id=tok.token_to_id("<s>"), eos_token_id=tok.token_to_id("</s>"), pad_token_id=tok.token_to_id("<pad>")) if tok.token_to_id("<s>") is not None else {}
    if kind == "mistral":
        return c.MistralConfig(**small, num_key_value_heads=2, sliding_window=4, rope_theta=10000.0, tie_word_embeddings=False, **ids)
    if kind == "gemma":
        return c.GemmaConfig(**small, num_key_value_heads=1, head_dim=16, **ids)
    if kind == "gemma2":
        return c.Gemma2Config(**small, num_key_value_heads=2, head_dim=16, sliding_window=4, attn_logit_softcapping=5.0, final_logit_softcapping=None, query_pre_attn_scalar=24, **ids)
    if kind == "gemma3":
        return c.Gemma3TextConfig(**{**small, "num_hidden_layers": 3}, num_key_value_heads=2, head_dim=16, sliding_window=4, query_pre_attn_scalar=16,
                                  layer_types=["sliding_attention", "sliding_attention", "full_attention"],
                                  rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}, "full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1000000.0}}, **ids)
    if kind == "phi3":
        return c.Phi3Config(**small, num_key_value_heads=2, partial_rotary_factor=0.5, original_max_position_embeddings=128, sliding_window=None, **ids)
    if kind == "gpt_neox":
        return c.GPTNeoXConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=128, rotary_pct=0.25,
                               use_parallel_residual=True, hidden_act="gelu", bos_token_id=0, eos_token_id=0)
    if kind == "opt":
        return c.OPTConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64, max_position_embeddings=64, word_embed_proj_dim=32, do_layer_norm_before=True, **ids)
    if kind == "opt350":
        return c.OPTConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64, max_position_embeddings=64, word_embed_proj_dim=16, do_layer_norm_before=False, **ids)
    if kind == "qwen2":
        return c.Qwen2Config(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, intermediate_size=64, max_position_embeddings=128, rope_theta=1000000.0, tie_word_embeddings=True)
    return c.Qwen3Config(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16, intermediate_size=64, max_position_embeddings=128, rope_theta=1000000.0, tie_word_embeddings=True)


MODELS = {"tiny-bert": "bert", "tiny-roberta": "roberta", "tiny-distilbert": "distilbert", "tiny-gpt2": "gpt2", "tiny-llama": "llama", "tiny-qwen2": "qwen2", "tiny-qwen3": "qwen3",
          "tiny-mistral": "mistral", "tiny-gemma": "gemma", "tiny-gemma2": "gemma2", "tiny-gemma3": "gemma3", "tiny-phi3": "phi3", "tiny-pythia": "gpt_neox",
          "tiny-opt": "opt", "tiny-opt-350m-layout": "opt350"}
m = transformers.models
ROTARY = {"llama": m.llama.modeling_llama, "qwen2": m.qwen2.modeling_qwen2, "qwen3": m.qwen3.modeling_qwen3, "mistral": m.mistral.modeling_mistral,
          "gemma": m.gemma.modeling_gemma, "gemma2": m.gemma2.modeling_gemma2, "gemma3": m.gemma3.modeling_gemma3, "phi3": m.phi3.modeling_phi3,
          "gpt_neox": m.gpt_neox.modeling_gpt_neox}
ONLY = set(sys.argv[1:])


def randomise(model: torch.nn.Module) -> None:
    """Weights far from the library's tiny init, so attention is not near uniform."""
    g = torch.Generator().manual_seed(1)
    for name, p in model.named_parameters():
        with torch.no_grad():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.35)
            elif "norm" in name.lower() or "ln" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))


def capture(kind: str, model, ids: list[int]) -> dict:
    """One sentence: Q/K (pre/post rotation) and attention of every layer, float64."""
    q_pre, k_pre, q_post, k_post = [], [], [], []
    hooks = []
    module = ROTARY.get(kind)
    original = module.apply_rotary_pos_emb if module else None
    if module:
        def record(q, k, cos, sin, *args, **kwargs):
            qr, kr = original(q, k, cos, sin, *args, **kwargs)
            q_pre.append(q[0]); k_pre.append(k[0]); q_post.append(qr[0]); k_post.append(kr[0])
            return qr, kr
        module.apply_rotary_pos_emb = record
    else:
        heads = model.config.num_attention_heads if kind != "distilbert" else model.config.n_heads
        def split(t):  # [1, n, H] → [heads, n, d]
            return t[0].reshape(t.shape[1], heads, -1).transpose(0, 1)
        if kind in ("opt", "opt350"):
            for layer in model.decoder.layers:
                hooks.append(layer.self_attn.q_proj.register_forward_hook(lambda _m, _i, out: q_pre.append(split(out))))
                hooks.append(layer.self_attn.k_proj.register_forward_hook(lambda _m, _i, out: k_pre.append(split(out))))
        elif kind == "gpt2":
            for block in model.h:
                def hook(_m, _i, out):
                    q, k, _v = out.split(model.config.n_embd, dim=2)
                    q_pre.append(split(q)); k_pre.append(split(k))
                hooks.append(block.attn.c_attn.register_forward_hook(hook))
        else:
            layers = model.transformer.layer if kind == "distilbert" else model.encoder.layer
            for layer in layers:
                att = layer.attention if kind == "distilbert" else layer.attention.self
                qm, km = (att.q_lin, att.k_lin) if kind == "distilbert" else (att.query, att.key)
                hooks.append(qm.register_forward_hook(lambda _m, _i, out: q_pre.append(split(out))))
                hooks.append(km.register_forward_hook(lambda _m, _i, out: k_pre.append(split(out))))
    try:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]), output_attentions=True)
    finally:
        for h in hooks:
            h.remove()
        if module:
            module.apply_rotary_pos_emb = original
    result = {"q_pre": torch.stack(q_pre), "k_pre": torch.stack(k_pre), "attention": torch.stack([a[0] for a in out.attentions])}
    if module:
        result["q_post"] = torch.stack(q_post)
        result["k_post"] = torch.stack(k_post)
    return result


def main() -> None:
    for name, kind in MODELS.items():
        if ONLY and name not in ONLY:
            continue
        out = ROOT / name
        (out / "reference").mkdir(parents=True, exist_ok=True)
        tok, specials = tokenizers_for(kind)
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, **specials)
        fast.save_pretrained(out)
        config = config_for(kind, tok.get_vocab_size(), specials, tok)
        config._attn_implementation = "eager"
        model = transformers.AutoModel.from_config(config, attn_implementation="eager")
        randomise(model)
        model.save_pretrained(out, safe_serialization=True)
        model = model.double().eval()
        ids = [fast(s)["input_ids"] for s in SENTENCES]
        runs = [capture(kind, model, i) for i in ids]
        arrays = {key: np.concatenate([r[key].numpy() for r in runs], axis=2) for key in runs[0] if key != "attention"}
        arrays["attention"] = np.concatenate([r["attention"].reshape(r["attention"].shape[0], r["attention"].shape[1], -1).numpy() for r in runs], axis=2)
        for key, a in arrays.items():
            np.save(out / "reference" / f"{key}.npy", a.astype(np.float64))
        (out / "reference" / "tokens.json").write_text(json.dumps({"sentences": SENTENCES, "ids": ids, "transformers": transformers.__version__, "torch": torch.__version__}, indent=1) + "\n")
        print(f"{name}: {kind}, " + ", ".join(f"{k} {list(v.shape)}" for k, v in arrays.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
