"""Random-weight checkpoints with real models' configurations, for `npm run bench:scale`:
Qwen3-0.6B, Llama-3.2-1B and GPT-2 medium, their weights from transformers' own
initialisation (normal with the config's initializer_range), saved as the hub keeps them
(bfloat16 for Qwen3 and Llama, float32 for GPT-2). Benchmark fixtures: never trained, never
presented as trained. The tokenizer is the tiny Llama test fixture's (its ids are a subset of
every vocabulary here). Writes .cache/scale-models/<name>/ (config.json, model.safetensors,
tokenizer files). Run through scripts/make-scale-models.sh.
"""
import json
import pathlib
import shutil
import sys

import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / ".cache" / "scale-models"
TOKENIZER = ROOT / "tests" / "fixtures" / "hub" / "qkviz-test" / "tiny-llama"

CONFIGS = {
    # Published architecture settings of each model (config.json on the hub).
    "qwen3-0.6b-shape": (transformers.Qwen3Config, dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
                                                         num_key_value_heads=8, head_dim=128, max_position_embeddings=40960, rms_norm_eps=1e-6, rope_theta=1000000.0,
                                                         tie_word_embeddings=True, hidden_act="silu"), torch.bfloat16),
    "llama-3.2-1b-shape": (transformers.LlamaConfig, dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                                                          num_key_value_heads=8, head_dim=64, max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0,
                                                          rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                                        "original_max_position_embeddings": 8192},
                                                          tie_word_embeddings=True, hidden_act="silu"), torch.bfloat16),
    "gpt2-medium-shape": (transformers.GPT2Config, dict(vocab_size=50257, n_embd=1024, n_layer=24, n_head=16, n_positions=1024, activation_function="gelu_new"), torch.float32),
}


def main() -> None:
    only = set(sys.argv[1:])
    torch.manual_seed(0)
    for name, (cls, kwargs, dtype) in CONFIGS.items():
        if only and name not in only:
            continue
        out = OUT / name
        if (out / "model.safetensors").exists():
            print(f"{name}: kept", file=sys.stderr)
            continue
        out.mkdir(parents=True, exist_ok=True)
        config = cls(**kwargs)
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model = model.to(dtype)
        model.save_pretrained(out, safe_serialization=True)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(TOKENIZER / f, out / f)
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {params / 1e9:.3f}B parameters, {dtype}", file=sys.stderr)


if __name__ == "__main__":
    main()
