"""qkviz.show: the QKViz explorer in a notebook cell (anywidget; JupyterLab, Jupyter Notebook,
VS Code, Colab — any frontend that runs anywidget).

The bundle's bytes go to the cell's front end with the widget (a binary trait): nothing is served
and nothing is fetched. The front end (static/widget.js, built from widget/ by `npm run
build:widget`) opens them exactly as the page opens a .qkviz file: the matrix of every head,
clicking a head flies into it, attention links, PCA/UMAP, the run summary — with no model run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Union

try:
    import anywidget
    import traitlets
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("qkviz.show needs anywidget: pip install 'qkviz[jupyter]'") from e

__all__ = ["show", "QKVizWidget", "MAX_BUNDLE_BYTES"]

STATIC = Path(__file__).parent / "static"

#: The most a browser tab opens as one run (lib/engine/limits.ts MAX_RESULT_BYTES, the page's limit).
MAX_BUNDLE_BYTES = int(1.5 * 1024**3)

BundleLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, Any]


def _static(name: str) -> str:
    path = STATIC / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: this qkviz was installed without its notebook widget. "
            "In a QKViz checkout, run `npm run build:widget` and reinstall (pip install ./python)."
        )
    return path.read_text(encoding="utf-8")


def _too_big(size: int, name: str) -> ValueError:
    gib = 1024**3
    return ValueError(
        f"{name} is {size / gib:.2f} GiB; a browser tab opens runs up to {MAX_BUNDLE_BYTES / gib:.1f} GiB, "
        "and the widget holds the whole bundle in the tab. Write a views bundle instead "
        "(layouts and figures without the queries and keys: `qkviz bundle ... --contents views`), "
        "or open the file in the QKViz page (Open bundle…), which reads a large bundle a head at a time."
    )


def _read_file(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_BUNDLE_BYTES:
        raise _too_big(size, path.name)
    return path.read_bytes()


def _bundle_bytes(obj: BundleLike) -> "tuple[bytes, str]":
    """The bytes of a .qkviz bundle and a file name for it, from whatever `show` was given."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        if len(data) > MAX_BUNDLE_BYTES:
            raise _too_big(len(data), "This bundle")
        return data, "bundle.qkviz"
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if not path.is_file():
            raise FileNotFoundError(f"No bundle at {path}: qkviz.show takes a .qkviz file, its bytes, a qkviz.Run or a capture.")
        return _read_file(path), path.name
    # A qkviz.Run (qkviz.read_bundle): its arrays are memory-mapped from the bundle it was read from.
    from .bundle import Run

    if isinstance(obj, Run):
        for array in obj.arrays.values():
            filename = getattr(array, "filename", None)
            if filename and Path(filename).is_file():
                path = Path(filename)
                return _read_file(path), path.name
        raise ValueError("This qkviz.Run is not backed by a bundle file any more; write it again and show the file.")
    # A capture (qkviz.capture / from_transformer_lens) or anything else that writes a bundle.
    save = getattr(obj, "save", None)
    if callable(save):
        with tempfile.TemporaryDirectory(prefix="qkviz-show-") as tmp:
            path = Path(tmp) / "capture.qkviz"
            save(path)
            if not path.is_file():
                raise ValueError(f"{type(obj).__name__}.save(path) wrote no file: qkviz.show needs a .qkviz bundle.")
            data = _read_file(path)
        label = getattr(obj, "model", None)
        return data, f"{label}.qkviz" if isinstance(label, str) and label else "capture.qkviz"
    raise TypeError(
        f"qkviz.show takes a .qkviz path, a bundle's bytes, a qkviz.Run or an object with save(path) (a capture), not {type(obj).__name__}."
    )


class QKVizWidget(anywidget.AnyWidget):
    """The QKViz explorer showing one bundle (see `show`)."""

    _esm = traitlets.Unicode().tag(sync=True)
    _css = traitlets.Unicode().tag(sync=True)
    #: The .qkviz bundle, sent to the front end as one binary buffer.
    bundle = traitlets.Bytes(b"").tag(sync=True)
    #: The file name the explorer shows for it.
    name = traitlets.Unicode("bundle.qkviz").tag(sync=True)
    #: The explorer's height in CSS pixels (it takes the cell's width).
    height = traitlets.Int(640).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("_esm", _static("widget.js"))
        kwargs.setdefault("_css", _static("widget.css"))
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"<qkviz.QKVizWidget {self.name}: {len(self.bundle):,} bytes>"


def show(obj: BundleLike, height: int = 640) -> QKVizWidget:
    """The QKViz explorer for a run, in the notebook cell: the matrix of every layer's and head's
    queries and keys, a head's attention links when you click into it, PCA and UMAP, the run's figures.

    `obj` is a .qkviz file (path), the bytes of one, a `qkviz.Run` (qkviz.read_bundle) or an object
    with a `save(path)` method that writes a bundle (a `qkviz.capture(...)` result). Nothing is
    served or fetched: the bundle travels with the widget, up to the page's limit of 1.5 GiB (larger
    ones: write a views bundle, or open the file in the QKViz page). Returns the widget; as a cell's
    last expression it shows itself.
    """
    if not isinstance(height, int) or isinstance(height, bool) or height < 320:
        raise ValueError(f"height is the explorer's height in pixels, at least 320; got {height!r}")
    data, name = _bundle_bytes(obj)
    from .bundle import MAGIC

    if not data.startswith(MAGIC):
        raise ValueError(f"{name} is not a QKViz bundle (.qkviz): it does not start with the bundle signature.")
    return QKVizWidget(bundle=data, name=name, height=height)
