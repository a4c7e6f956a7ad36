"""QKViz from Python: read and write the .qkviz run bundles the page and the CLI open and save."""

from .bundle import BUNDLE_VERSION, BundleError, Run, read_bundle, read_container, write_container

__all__ = ["BUNDLE_VERSION", "BundleError", "Run", "read_bundle", "read_container", "write_container"]
__version__ = "0.1.0"
