"""QKViz from Python: capture a transformer's queries and keys (Hugging Face transformers,
TransformerLens), write and read the .qkviz run bundles the page opens, show a run in a notebook
cell, and run corpora past one machine on Ray.

numpy is the only dependency of the bundle functions; the adapters, the widget and Ray import
what they need when first used (pip extras torch, lens, jupyter, ray)."""

__version__ = "0.2.0"

from .bundle import BUNDLE_VERSION, BundleError, Run, Streamed, read_bundle, read_container, write_container
from .write import write_bundle

# Bound here, not lazily: the function `capture` shares its name with its module, which an import of
# the module (qkviz.distributed does one) would otherwise leave in its place. Torch is still imported
# only when a capture runs.
from .capture import Capture, UnsupportedModelError, capture, from_transformer_lens

__all__ = [
    "BUNDLE_VERSION",
    "BundleError",
    "Run",
    "Streamed",
    "read_bundle",
    "read_container",
    "write_container",
    "write_bundle",
    "capture",
    "from_transformer_lens",
    "Capture",
    "UnsupportedModelError",
    "show",
    "run_on_ray",
]
# Optional parts: imported on first use, so `import qkviz` needs numpy only.
_LAZY = {
    "show": ("widget", "show"),
    "run_on_ray": ("distributed", "run_on_ray"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'qkviz' has no attribute {name!r}")
