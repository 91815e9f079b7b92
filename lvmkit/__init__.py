"""lvmkit: the latent-variable-model toolkit behind the executable essays.

Importing :mod:`lvmkit` is light: it loads numpy and torch only. Modules that need
Lightning or matplotlib (``lvmkit.vae``'s trainer, ``lvmkit.plotting``) are imported
explicitly by the code that uses them.
"""

from pathlib import Path

__version__ = "0.1.0"
__all__ = ["__version__", "data_dir"]


def data_dir() -> Path:
    """Directory of the book's cached data.

    In this order: the environment variable ``LVMKIT_DATA``; ``data/`` at the root of
    the repository when lvmkit runs from a clone (editable install); the copy that an
    installed wheel carries, ``<prefix>/share/lvmkit/data`` (no download, ever). Every
    file is checked against the manifest's SHA-256 when it is loaded
    (:mod:`lvmkit.artifacts`).
    """
    import os
    import sys
    import sysconfig

    if "LVMKIT_DATA" in os.environ:
        return Path(os.environ["LVMKIT_DATA"])
    clone = Path(__file__).resolve().parents[1] / "data"
    if (clone / "MANIFEST.json").is_file():
        return clone
    for prefix in (sysconfig.get_path("data"), sys.prefix, sys.base_prefix):
        installed = Path(prefix) / "share" / "lvmkit" / "data"
        if (installed / "MANIFEST.json").is_file():
            return installed
    return clone
