"""Tiny random-weight VISION checkpoints (ViT, DeiT, DINOv2, DINOv2 with registers, CLIP) in the
Hugging Face hub's file layout, with reference outputs from the real `transformers` library in
float64: the vision counterpart of scripts/make-reference-models.py + make-value-references.py.

Writes tests/fixtures/hub/qkviz-test/vision-images/: image{0..3}.npy, four small deterministic
uint8 RGB images [H, W, 3] made here with numpy (37×50 gradients, 64×64 stripes, 48×23 disc,
33×33 noise) and a README.md; and for each model tests/fixtures/hub/qkviz-test/<name>/:
config.json + model.safetensors (save_pretrained, float32, eager attention), the image
processor's preprocessor_config.json (save_pretrained of the PIL-backed "slow" class, which in
transformers 5 is <Name>ImageProcessorPil; it writes image_processor_type without the "Pil"), and
reference/, .npy float64 arrays over the four images, each run alone, concatenated on the token
axis (N = images · tokens_per_image) as the text references are:
  pixel_values [images, 3, H, W]      the slow processor's output (float32) widened to float64
  q_pre, k_pre, v [layers, heads, N, d]   the query/key/value projections' outputs, bias included,
                                      split per head
  attention [layers, heads, Σ n²]     each image's [n, n] block (rows = queries) flattened
  head_out [layers, heads, N, hidden] the attention output projection's INPUT sliced per head
                                      through W_O[:, h·d:(h+1)·d]ᵀ, no bias (= Σ_j α_ij f_h(x_j))
  tokens.json                         images, tokens_per_image, grid, special (count of non-patch
                                      tokens at the start) and special_kinds, versions
Token order: ViT/CLIP [cls, patches]; DeiT [cls, distillation, patches]; DINOv2 with registers
[cls, registers…, patches]; patches row-major over the grid. CLIP's references are its VISION
tower only (CLIPModel.vision_model, a CLIPVisionModel: pre_layrnorm before the encoder); the
checkpoint is a full CLIPModel (text_model.* and vision_model.* tensors).

Softmax precision: ViT, DeiT and CLIP's eager attention takes the softmax in float32 even in a
float64 model (softmax(..., dtype=torch.float32).to(query.dtype)); DINOv2 takes it in the input
dtype. So that every array here is float64-exact and q/k reproduce the attention to 1e-8, the
runs lift that float32 softmax to float64 (float64_softmax below); the stock library's attention
differs from these by float32 rounding only (printed per model). DINOv2's position-embedding
interpolation casts to float32 inside the library; that is kept (it is the model's arithmetic).

Self-checks, asserted and printed per model: pixel_values equal, bit for bit, an independent
PIL/numpy replica of the processor (uint8 → PIL resize → uint8 → floor-offset centre crop →
float64·(1/255) → float32 → float32 (x − mean)/std); softmax(q·kᵀ·scale) = attention (1e-8
relative); Σ_j α_ij f_h(x_j) = head_out (1e-8 relative); Σ_h head_out + b_O = the output
projection's output (1e-10 relative); the reloaded checkpoint equals the saved weights.
Run from the repository root with the reference virtualenv's Python (it needs Pillow too):
  .cache/reference-venv/bin/python scripts/make-vision-references.py [NAME…]   (all when none)
"""
import contextlib
import json
import pathlib
import sys

import numpy as np
import PIL
import PIL.Image
import torch
import transformers
from transformers.utils.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD

ROOT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hub" / "qkviz-test"
IMAGES = ROOT / "vision-images"
ONLY = set(sys.argv[1:])
BILINEAR, BICUBIC = 2, 3
torch.manual_seed(0)


def make_images() -> list[np.ndarray]:
    """Four small uint8 RGB images [H, W, 3]: gradients, stripes, a disc, noise."""
    y, x = np.mgrid[0:37, 0:50].astype(np.float64)
    gradients = np.stack([x / 49 * 255, y / 36 * 255, (x + y) / 85 * 255], axis=-1)
    y, x = np.mgrid[0:64, 0:64].astype(np.float64)
    stripes = np.stack([127.5 + 127.5 * np.sin(x * 0.7), 127.5 + 127.5 * np.sin((x + y) * 0.45), np.where((y // 5) % 2 == 0, 230.0, 20.0)], axis=-1)
    y, x = np.mgrid[0:48, 0:23].astype(np.float64)
    inside = (y - 22) ** 2 + (x - 11) ** 2 < 9.5 ** 2
    disc = np.where(inside[..., None], [250.0, 200.0, 30.0], [20.0, 60.0, 140.0]) + 20 * np.sin(y / 3)[..., None]
    noise = np.random.default_rng(7).integers(0, 256, size=(33, 33, 3))
    return [np.clip(np.rint(a), 0, 255).astype(np.uint8) for a in (gradients, stripes, disc, noise)]


README = """# Vision test images

`image0.npy` … `image3.npy` are four small RGB images, uint8 arrays of shape [H, W, 3]
(37×50 colour gradients, 64×64 stripes, 48×23 a disc on a shaded background, 33×33 uniform
noise), generated deterministically with numpy by `scripts/make-vision-references.py`. They are
synthetic (no photograph or third-party content), so there is no licence issue. They are the inputs
of the vision references in `../tiny-vit`, `../tiny-deit`, `../tiny-dinov2`,
`../tiny-dinov2-registers` and `../tiny-clip-vision` (`reference/pixel_values.npy` and the rest).
"""

SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4)
DINO = dict(**SMALL, mlp_ratio=2, image_size=56, patch_size=8, layerscale_value=0.7)
DINO_PROCESSOR = dict(size={"shortest_edge": 36}, resample=BICUBIC, do_center_crop=True, crop_size={"height": 32, "width": 32},
                      do_rescale=True, do_normalize=True, image_mean=IMAGENET_DEFAULT_MEAN, image_std=IMAGENET_DEFAULT_STD, do_convert_rgb=True)
m = transformers.models
MODELS = {
    "tiny-vit": dict(kind="vit", special=["cls"],
                     config=lambda: transformers.ViTConfig(**SMALL, intermediate_size=64, image_size=32, patch_size=8, qkv_bias=True),
                     processor=m.vit.image_processing_pil_vit.ViTImageProcessorPil,
                     processor_args=dict(size={"height": 32, "width": 32}, resample=BILINEAR, do_rescale=True, do_normalize=True, image_mean=[0.5] * 3, image_std=[0.5] * 3)),
    "tiny-deit": dict(kind="deit", special=["cls", "distillation"],
                      config=lambda: transformers.DeiTConfig(**SMALL, intermediate_size=64, image_size=32, patch_size=8, qkv_bias=True),
                      processor=m.deit.image_processing_pil_deit.DeiTImageProcessorPil,
                      processor_args=dict(size={"height": 40, "width": 40}, resample=BICUBIC, do_center_crop=True, crop_size={"height": 32, "width": 32},
                                          do_rescale=True, do_normalize=True, image_mean=IMAGENET_DEFAULT_MEAN, image_std=IMAGENET_DEFAULT_STD)),
    "tiny-dinov2": dict(kind="dinov2", special=["cls"],
                        config=lambda: transformers.Dinov2Config(**DINO),
                        processor=m.bit.image_processing_pil_bit.BitImageProcessorPil, processor_args=DINO_PROCESSOR),
    "tiny-dinov2-registers": dict(kind="dinov2_with_registers", special=["cls", "registers", "registers"],
                                  config=lambda: transformers.Dinov2WithRegistersConfig(**DINO, num_register_tokens=2),
                                  processor=m.bit.image_processing_pil_bit.BitImageProcessorPil, processor_args=DINO_PROCESSOR),
    "tiny-clip-vision": dict(kind="clip", special=["cls"],
                             config=lambda: transformers.CLIPConfig(
                                 text_config=dict(**SMALL, vocab_size=64, intermediate_size=64, max_position_embeddings=16, hidden_act="quick_gelu",
                                                  pad_token_id=1, bos_token_id=0, eos_token_id=2, projection_dim=16),
                                 vision_config=dict(**SMALL, intermediate_size=64, image_size=32, patch_size=8, hidden_act="quick_gelu", projection_dim=16),
                                 projection_dim=16),
                             processor=m.clip.image_processing_pil_clip.CLIPImageProcessorPil,
                             processor_args=dict(size={"shortest_edge": 32}, resample=BICUBIC, do_center_crop=True, crop_size={"height": 32, "width": 32},
                                                 do_rescale=True, do_normalize=True, image_mean=OPENAI_CLIP_MEAN, image_std=OPENAI_CLIP_STD, do_convert_rgb=True)),
}


def randomise(model: torch.nn.Module) -> None:
    """Weights far from the library's tiny init, so attention is not near uniform (as in
    make-reference-models.py); DINOv2's layer scales become layerscale_value·(1 + 0.2·noise)."""
    g = torch.Generator().manual_seed(1)
    for name, p in model.named_parameters():
        with torch.no_grad():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.35)
            elif "lambda1" in name:
                p.copy_(model.config.layerscale_value * (1 + 0.2 * torch.randn(p.shape, generator=g)))
            elif "norm" in name.lower() or "ln" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))


def vision(kind: str, model):
    """The module run on pixel_values (CLIP: the vision tower of the CLIPModel)."""
    return model.vision_model if kind == "clip" else model


def attention_modules(kind: str, model) -> list[tuple]:
    """Per layer: (attention module, q, k, v, output projection)."""
    if kind in ("vit", "deit"):
        atts = [layer.attention for layer in model.layers]
    elif kind in ("dinov2", "dinov2_with_registers"):
        atts = [layer.attention for layer in model.encoder.layer]
    else:
        atts = [layer.self_attn for layer in model.vision_model.encoder.layers]
    return [(a, a.q_proj, a.k_proj, a.v_proj, a.out_proj if kind == "clip" else a.o_proj) for a in atts]


@contextlib.contextmanager
def float64_softmax():
    """Within: a softmax asked for in float32 on a float64 input is taken in float64."""
    original = torch.nn.functional.softmax

    def softmax(input, dim=None, _stacklevel=3, dtype=None):
        if dtype == torch.float32 and input.dtype == torch.float64:
            dtype = None
        return original(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)

    torch.nn.functional.softmax = softmax
    try:
        yield
    finally:
        torch.nn.functional.softmax = original


def capture(kind: str, model, pixels: torch.Tensor, heads: int, d: int) -> dict:
    """One image [1, 3, H, W]: per layer q/k/v [heads, n, d], context [n, heads·d], o_out [n, hidden], α."""
    rec = {"q": [], "k": [], "v": [], "context": [], "o_out": []}

    def split(t):  # [1, n, heads·d] → [heads, n, d]
        return t[0].reshape(t.shape[1], heads, d).transpose(0, 1)

    def on(key):
        return lambda _m, _i, out: rec[key].append(split(out))

    hooks = []
    for _att, q, k, v, o in attention_modules(kind, model):
        hooks += [q.register_forward_hook(on("q")), k.register_forward_hook(on("k")), v.register_forward_hook(on("v")),
                  o.register_forward_pre_hook(lambda _m, args: rec["context"].append(args[0][0])),
                  o.register_forward_hook(lambda _m, _i, out: rec["o_out"].append(out[0]))]
    try:
        with torch.no_grad():
            out = vision(kind, model)(pixel_values=pixels, output_attentions=True)
    finally:
        for h in hooks:
            h.remove()
    result = {key: torch.stack(val) for key, val in rec.items()}
    result["alpha"] = torch.stack([a[0] for a in out.attentions])  # [layers, heads, n, n]
    return result


def replica(image: np.ndarray, p: dict) -> np.ndarray:
    """The PIL processor, redone independently: [H, W, 3] uint8 → [3, h, w] float32."""
    h, w = image.shape[:2]
    size = p["size"]
    if "shortest_edge" in size:
        s = size["shortest_edge"]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = s, int(s * long / short)  # truncation, not rounding
        out_h, out_w = (new_long, new_short) if w <= h else (new_short, new_long)
    else:
        out_h, out_w = size["height"], size["width"]
    resized = np.array(PIL.Image.fromarray(image).resize((out_w, out_h), resample=p["resample"]))  # uint8 in, uint8 out
    if p.get("do_center_crop"):
        ch, cw = p["crop_size"]["height"], p["crop_size"]["width"]
        top, left = (out_h - ch) // 2, (out_w - cw) // 2
        resized = resized[top:top + ch, left:left + cw]
    x = (resized.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(p["image_mean"], dtype=np.float32)) / np.array(p["image_std"], dtype=np.float32)
    return np.moveaxis(x, -1, 0)


def rel(err, ref) -> float:
    return float(abs(err).max() / abs(ref).max())


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    images = make_images()
    for i, image in enumerate(images):
        np.save(IMAGES / f"image{i}.npy", image)
    (IMAGES / "README.md").write_text(README)
    images = [np.load(IMAGES / f"image{i}.npy") for i in range(len(images))]
    assert all(a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 for a in images)

    for name, spec in MODELS.items():
        if ONLY and name not in ONLY:
            continue
        kind, folder = spec["kind"], ROOT / name
        refdir = folder / "reference"
        refdir.mkdir(parents=True, exist_ok=True)

        config = spec["config"]()
        model = transformers.AutoModel.from_config(config, attn_implementation="eager")
        randomise(model)
        model.save_pretrained(folder, safe_serialization=True)
        spec["processor"](**spec["processor_args"]).save_pretrained(folder)

        # Everything below from the files just written.
        processor = spec["processor"].from_pretrained(folder)
        assert processor.backend == "pil", processor.backend
        saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model = transformers.AutoModel.from_pretrained(folder, attn_implementation="eager")
        assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items()) and saved.keys() == model.state_dict().keys()
        model = model.double().eval()
        vcfg = model.config.vision_config if kind == "clip" else model.config
        assert vcfg._attn_implementation == "eager", vcfg._attn_implementation
        heads, hidden = vcfg.num_attention_heads, vcfg.hidden_size
        d = hidden // heads

        pixel_values = processor(images, input_data_format="channels_last", return_tensors="np")["pixel_values"]
        assert pixel_values.dtype == np.float32 and pixel_values.shape == (len(images), 3, 32, 32), (pixel_values.dtype, pixel_values.shape)
        for image, pv in zip(images, pixel_values):
            assert np.array_equal(replica(image, spec["processor_args"]), pv), f"{name}: processor replica differs"
        pixel_values = pixel_values.astype(np.float64)

        pairs = attention_modules(kind, model)
        w_o = [o.weight.detach() for *_x, o in pairs]  # [hidden, heads·d]
        b_o = [o.bias.detach() for *_x, o in pairs]
        scales = [a.scale if kind == "clip" else a.scaling for a, *_x in pairs]
        patch = vcfg.patch_size
        grid = [pixel_values.shape[2] // patch, pixel_values.shape[3] // patch]
        n = len(spec["special"]) + grid[0] * grid[1]

        runs, err_softmax, err_alpha, err_sum, stock = [], 0.0, 0.0, 0.0, 0.0
        for pv in pixel_values:
            pixels = torch.from_numpy(pv[None])
            with float64_softmax():
                r = capture(kind, model, pixels, heads, d)
            stock_alpha = capture(kind, model, pixels, heads, d)["alpha"]
            stock = max(stock, float((stock_alpha - r["alpha"]).abs().max()))
            layers = r["q"].shape[0]
            assert r["q"].shape == r["k"].shape == r["v"].shape == (layers, heads, n, d), r["q"].shape
            assert r["alpha"].shape == (layers, heads, n, n) and r["context"].shape == (layers, n, heads * d)
            head_out = torch.empty(layers, heads, n, hidden, dtype=torch.float64)
            with torch.no_grad():
                for l in range(layers):
                    logits = r["q"][l] @ r["k"][l].transpose(1, 2) * scales[l]
                    err_softmax = max(err_softmax, rel(torch.softmax(logits, dim=-1) - r["alpha"][l], r["alpha"][l]))
                    f = torch.empty(heads, n, hidden, dtype=torch.float64)
                    for h in range(heads):
                        w = w_o[l][:, h * d:(h + 1) * d]  # [hidden, d]
                        f[h] = r["v"][l, h] @ w.t()
                        head_out[l, h] = r["context"][l][:, h * d:(h + 1) * d] @ w.t()
                    err_alpha = max(err_alpha, rel(torch.einsum("hij,hjc->hic", r["alpha"][l], f) - head_out[l], head_out[l]))
                    err_sum = max(err_sum, rel(head_out[l].sum(0) + b_o[l] - r["o_out"][l], r["o_out"][l]))
            r["head_out"] = head_out
            runs.append(r)
        assert err_softmax < 1e-8, f"{name}: softmax(q·kᵀ·scale) vs attention {err_softmax:.3e}"
        assert err_alpha < 1e-8, f"{name}: Σ_j α f vs head_out {err_alpha:.3e}"
        assert err_sum < 1e-10, f"{name}: Σ_h head_out + b vs o_proj output {err_sum:.3e}"

        arrays = {"pixel_values": pixel_values}
        for key, out in (("q", "q_pre"), ("k", "k_pre"), ("v", "v"), ("head_out", "head_out")):
            arrays[out] = np.concatenate([r[key].numpy() for r in runs], axis=2)
        arrays["attention"] = np.concatenate([r["alpha"].reshape(layers, heads, -1).numpy() for r in runs], axis=2)
        assert arrays["q_pre"].shape == (layers, heads, len(images) * n, d) and arrays["attention"].shape == (layers, heads, len(images) * n * n)
        for key, a in arrays.items():
            np.save(refdir / f"{key}.npy", a.astype(np.float64))
        tokens = {"images": len(images), "image_files": [f"../../vision-images/image{i}.npy" for i in range(len(images))],
                  "image_sizes": [list(a.shape[:2]) for a in images], "pixel_size": list(pixel_values.shape[2:]),
                  "tokens_per_image": n, "grid": grid, "special": len(spec["special"]), "special_kinds": spec["special"],
                  "transformers": transformers.__version__, "torch": torch.__version__, "pillow": PIL.__version__}
        (refdir / "tokens.json").write_text(json.dumps(tokens, indent=1) + "\n")
        print(f"{name}: {kind}, heads {heads}, d {d}, grid {grid}, n {n}, " + ", ".join(f"{k} {list(v.shape)}" for k, v in arrays.items())
              + f"; pixel replica exact, softmax(qk) vs α {err_softmax:.1e}, Σ_j α f vs head_out {err_alpha:.1e}, Σ_h head_out+b vs o_out {err_sum:.1e},"
              + f" stock-library α (float32 softmax where it has one) vs written α {stock:.1e}", file=sys.stderr)


if __name__ == "__main__":
    main()
