"""lvmkit: the latent-variable-model toolkit behind the executable essays.

Importing :mod:`lvmkit` is light: it loads numpy and torch only. Modules that need
Lightning or matplotlib (``lvmkit.vae``'s trainer, ``lvmkit.plotting``) are imported
explicitly by the code that uses them.
"""

from pathlib import Path

__version__ = "0.1.0"
__all__ = ["__version__", "data_dir"]


def data_dir() -> Path:
    """Directory of the book's cached data (``data/`` at the repository root).

    Set the environment variable ``LVMKIT_DATA`` to use another location.
    """
    import os

    return Path(os.environ.get("LVMKIT_DATA", Path(__file__).resolve().parents[1] / "data"))
