"""qkviz.capture and qkviz.from_transformer_lens against the page's own extraction of the same model.

Every tiny checkpoint in tests/fixtures/hub/qkviz-test is loaded with transformers (eager attention,
float32) and captured over CORPUS; the page's extraction of the same checkpoint and corpus comes from
`qkviz extract` (the Node CLI on lib/, see capture_helpers.py). Checked:
- token ids (and token strings) equal the page's exactly;
- queries and keys equal the page's within 1e-4 relative, measured per layer and head as
  max |captured − page| / max |page| (keys per key head; the page's are compared the same way);
- attention recomputed from the captured q/k by the captured spec (Capture.attention_from_qk) equals
  the model's own output_attentions within 1e-5 absolute, every layer, head and sentence;
- the spec, causal and rotary flags equal what the page records in tokens.json.
TransformerLens models (built offline from the same checkpoints) are held to the same Q/K bounds and
their recomputed attention to hook_pattern. Nothing is compared with itself: the page's numbers come
from ONNX graphs lib/ builds, the attention from the models' own softmax.
Skips only where torch, transformers or transformer_lens cannot be imported.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import tempfile
import unittest
import warnings
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from capture_helpers import FIXTURES, LENS_ARCHITECTURES, lens_model, page_extraction  # noqa: E402

HAVE_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
HAVE_LENS = HAVE_TORCH and importlib.util.find_spec("transformer_lens") is not None
if HAVE_TORCH:
    import torch
    import transformers

    from qkviz.capture import Capture, UnsupportedModelError, capture, from_transformer_lens

# Sentences of 7 to 16 tokens: longer than the 4-token windows of the sliding-window fixtures.
CORPUS = [
    "The capybara is sleeping.",
    "Keys meet queries in every head!",
    "A dot product, scaled.",
    "The quick brown fox jumps over the lazy dog.",
]
# The text checkpoints (a vision one reads images: it has a preprocessor_config.json, no tokenizer).
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "config.json").exists() and (p / "tokenizer.json").exists())
VECTOR_TOLERANCE = 1e-4
ATTENTION_TOLERANCE = 1e-5


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """Worst over layers and heads of max |got − want| / max |want| ([layers, heads, N, d] arrays)."""
    diff = np.abs(got.astype(np.float64) - want).max(axis=(2, 3))
    scale = np.abs(want).max(axis=(2, 3))
    return float((diff / scale).max())


def keys_like_page(c: "Capture", page_keys: np.ndarray) -> np.ndarray:
    """The capture's keys laid out as the page's file: per key head, or repeated per query head."""
    if page_keys.shape[1] == c.kv_heads:
        return c.keys
    return c.keys[:, [c.key_head(h) for h in range(c.heads)]]


def attention_error(c: "Capture", own: Dict[int, np.ndarray]) -> float:
    """Worst |softmax from the captured q/k − the model's attention| over every sampled sentence, layer and head."""
    worst = 0.0
    for s, probs in own.items():
        for layer in range(c.layers):
            for head in range(c.heads):
                worst = max(worst, float(np.abs(c.attention_from_qk(layer, head, s) - probs[layer, head]).max()))
    return worst


def load_hf(name: str, **kw: Any) -> tuple:
    folder = FIXTURES / name
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder, dtype=torch.float32, **{"attn_implementation": "eager", **kw})
    return model, tokenizer


class CaseWithPage(unittest.TestCase):
    errors: Dict[str, str] = {}

    def check_against_page(self, name: str, c: "Capture", own: Dict[int, np.ndarray]) -> str:
        page = page_extraction(name, CORPUS)
        self.assertEqual(c.ids, page.ids)
        self.assertEqual(c.texts, CORPUS)
        self.assertEqual(c.queries.dtype, np.float32)
        self.assertEqual(c.keys.dtype, np.float32)
        self.assertEqual(c.queries.shape, page.queries.shape)
        self.assertEqual((c.layers, c.heads, c.head_dim), (page.meta["layers"], page.meta["heads"], page.meta["headDim"]))
        self.assertEqual(c.kv_heads, page.meta.get("kvHeads") or page.meta["heads"])
        self.assertEqual(c.queries.shape[2], sum(len(i) for i in c.ids))
        q_err = relative_error(c.queries, page.queries)
        k_err = relative_error(keys_like_page(c, page.keys), page.keys)
        self.assertLess(q_err, VECTOR_TOLERANCE, f"{name}: queries")
        self.assertLess(k_err, VECTOR_TOLERANCE, f"{name}: keys")
        self.assertEqual(sorted(own), list(range(len(CORPUS))))
        a_err = attention_error(c, own)
        self.assertLess(a_err, ATTENTION_TOLERANCE, f"{name}: attention")
        self.assertEqual(c.causal, page.meta["causal"])
        self.assertEqual(c.rotary, page.meta["rotary"])
        want = page.meta["attention"]
        self.assertEqual(len(c.attention), len(want))
        for got_layer, want_layer in zip(c.attention, want):
            self.assertEqual(set(got_layer), set(want_layer))
            for key, value in want_layer.items():
                self.assertTrue(math.isclose(got_layer[key], value, rel_tol=1e-12), f"{name}: {key} {got_layer[key]} != {value}")
        return f"q {q_err:.1e}  k {k_err:.1e}  attention {a_err:.1e}"


@unittest.skipUnless(HAVE_TORCH, "torch and transformers are not importable")
class HuggingFaceCaptureTest(CaseWithPage):
    """qkviz.capture on every fixture architecture against the page's extraction."""

    def test_every_fixture_matches_the_page(self) -> None:
        self.assertGreaterEqual(len(FIXTURE_NAMES), 15)
        report = []
        for name in FIXTURE_NAMES:
            with self.subTest(model=name):
                model, tokenizer = load_hf(name)
                c = capture(model, tokenizer, CORPUS, name=name)
                self.assertEqual(c.model, name)
                self.assertEqual(c.tokens, page_extraction(name, CORPUS).tokens)
                self.assertEqual(c.tokens, [tokenizer.convert_ids_to_tokens(i) for i in c.ids])
                report.append(f"{name}: {self.check_against_page(name, c, c.attention_sample)}")
        print("\n[capture] " + "\n[capture] ".join(report), file=sys.stderr)

    def test_the_default_name_is_the_checkpoint_path(self) -> None:
        model, tokenizer = load_hf("tiny-gpt2")
        c = capture(model, tokenizer, "A dot product, scaled.")
        self.assertEqual(c.model, str(FIXTURES / "tiny-gpt2"))
        self.assertEqual(c.texts, ["A dot product, scaled."])

    def test_an_sdpa_model_is_switched_to_eager_for_its_sample_only(self) -> None:
        model, tokenizer = load_hf("tiny-llama", attn_implementation="sdpa")
        c = capture(model, tokenizer, CORPUS, sample=2)
        self.assertEqual(model.config._attn_implementation, "sdpa")
        self.assertEqual(sorted(c.attention_sample), [1, 3])  # spread as the page samples: ⌊(i + ½)·4/2⌋
        self.assertLess(attention_error(c, c.attention_sample), ATTENTION_TOLERANCE)
        self.assertLess(relative_error(c.queries, page_extraction("tiny-llama", CORPUS).queries), VECTOR_TOLERANCE)

    def test_a_model_with_a_head_reads_the_same_vectors(self) -> None:
        for name, auto in (("tiny-llama", transformers.AutoModelForCausalLM), ("tiny-gpt2", transformers.AutoModelForCausalLM), ("tiny-bert", transformers.AutoModelForMaskedLM)):
            with self.subTest(model=name), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                folder = FIXTURES / name
                model = auto.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
                c = capture(model, transformers.AutoTokenizer.from_pretrained(folder), CORPUS, name=name)
                self.check_against_page(name, c, c.attention_sample)

    def test_keys_are_stored_per_key_head(self) -> None:
        model, tokenizer = load_hf("tiny-gemma")  # 4 query heads, 1 key head
        c = capture(model, tokenizer, CORPUS[:1], sample=0)
        self.assertEqual((c.heads, c.kv_heads), (4, 1))
        self.assertEqual(c.attention_sample, {})
        for head in range(4):
            np.testing.assert_array_equal(c.key(1, head), c.keys[1, 0])
        self.assertEqual(c.sentence_tokens(0), slice(0, len(c.ids[0])))

    def test_causal_and_windowed_attention_is_zero_where_masked(self) -> None:
        model, tokenizer = load_hf("tiny-gemma2")  # window 4 on layer 0, soft-capping on both
        c = capture(model, tokenizer, CORPUS[3:], sample=1)
        self.assertEqual(c.attention[0].get("window"), 4)
        self.assertNotIn("window", c.attention[1])
        self.assertEqual(c.attention[0].get("softcap"), 5.0)
        p = c.attention_from_qk(0, 0, 0)
        n = len(c.ids[0])
        behind = np.arange(n)[:, None] - np.arange(n)[None, :]
        self.assertTrue(np.all(p[(behind < 0) | (behind >= 4)] == 0))
        np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-12)
        self.assertTrue(np.all(np.abs(c.attention_sample[0][0, 0][behind >= 4]) < 1e-12))

    def test_an_unsupported_architecture_names_itself_and_the_supported_ones(self) -> None:
        config = transformers.GPTNeoConfig(vocab_size=50, hidden_size=16, num_layers=2, num_heads=2, attention_types=[[["global"], 2]], max_position_embeddings=32)
        model = transformers.AutoModel.from_config(config)
        _, tokenizer = load_hf("tiny-gpt2")
        with self.assertRaises(UnsupportedModelError) as e:
            capture(model, tokenizer, ["A dot product."])
        self.assertIn('"gpt_neo"', str(e.exception))
        for supported in ("gpt2", "llama", "bert", "qwen3"):
            self.assertIn(supported, str(e.exception))

    def test_a_text_longer_than_the_positions_says_which_and_how_long(self) -> None:
        model, tokenizer = load_hf("tiny-gpt2")  # 64 positions
        long = " ".join(["capybara"] * 40)
        with self.assertRaises(ValueError) as e:
            capture(model, tokenizer, ["Short.", long])
        n = len(tokenizer(long)["input_ids"])
        self.assertIn("text 1", str(e.exception))
        self.assertIn(f"{n} tokens", str(e.exception))
        self.assertIn("64", str(e.exception))

    def test_a_saved_capture_opens_in_the_pages_reader(self) -> None:
        import qkviz
        from test_bundle import dump, floats

        model, tokenizer = load_hf("tiny-llama")
        c = capture(model, tokenizer, CORPUS[:3])
        with tempfile.TemporaryDirectory() as tmp:
            path = c.save(Path(tmp) / "llama.qkviz")
            ok, message = dump("run", path, Path(tmp) / "page")
            self.assertTrue(ok, message)
            run = qkviz.read_bundle(path)
            self.assertEqual((run.ids, run.tokens, run.sentences, run.rotary, run.causal), (c.ids, c.tokens, c.texts, "post", True))
            self.assertEqual(run.meta["manifest"]["source"]["library"], c.library)
            for layer in range(c.layers):
                for head in range(c.heads):
                    cell = layer * c.heads + head
                    self.assertEqual(floats(Path(tmp) / "page" / f"q{cell}.bin").tobytes(), c.queries[layer, head].astype("<f4").tobytes())
                    self.assertEqual(floats(Path(tmp) / "page" / f"k{cell}.bin").tobytes(), c.key(layer, head).astype("<f4").tobytes())
            # The check written with it: attention recomputed from the captured Q/K against the model's own.
            self.assertLess(run.meta["attentionError"], 1e-5)
            self.assertEqual(sorted(run.meta["data"]["attentionSample"]), sorted(c.attention_sample))


@unittest.skipUnless(HAVE_LENS, "torch, transformers or transformer_lens is not importable")
class TransformerLensCaptureTest(CaseWithPage):
    """qkviz.from_transformer_lens on HookedTransformers converted offline from the fixtures."""

    def test_lens_models_match_the_page(self) -> None:
        report = []
        for name in LENS_ARCHITECTURES:
            with self.subTest(model=name), tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = lens_model(name, Path(tmp))
                page = page_extraction(name, CORPUS)
                # Prepend BOS as the checkpoint's own tokenizer does (GPT-2's and Pythia's add none).
                bos = model.tokenizer.bos_token_id is not None and page.ids[0][0] == model.tokenizer.bos_token_id
                c = from_transformer_lens(model, CORPUS, prepend_bos=bos)
                self.assertEqual(c.tokens, page.tokens)
                report.append(f"{name}: {self.check_against_page(name, c, c.attention_sample)}")
        print("\n[lens] " + "\n[lens] ".join(report), file=sys.stderr)

    def test_lens_attention_sample_is_hook_pattern(self) -> None:
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = lens_model("tiny-llama", Path(tmp))
            c = from_transformer_lens(model, CORPUS, sample=1)
            self.assertEqual(list(c.attention_sample), [2])
            _, cache = model.run_with_cache(CORPUS[2])
            np.testing.assert_array_equal(c.attention_sample[2][1], cache["blocks.1.attn.hook_pattern"][0].numpy())
            self.assertEqual((c.heads, c.kv_heads, c.rotary, c.causal), (4, 2, "post", True))


if __name__ == "__main__":
    unittest.main()
