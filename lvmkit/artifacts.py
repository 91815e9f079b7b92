"""The book's cached data and weights, verified against ``data/MANIFEST.json`` on load.

Every file under ``data/`` is listed in ``MANIFEST.json`` with its SHA-256, its size,
its source and the command that regenerates it (``python3 tasks.py checksums`` rewrites
the manifest). The loaders here refuse a file that is missing or whose hash differs
from the manifest, with a message that names the file and the command to regenerate
it, and they never unpickle: arrays load with ``allow_pickle=False``, weights with
``weights_only=True``.

* :func:`load_npz`: a dict of NumPy arrays (``dictionary.npz``, ``treeworld.npz``).
* :func:`load_weights`: ``torch.load(..., weights_only=True)`` (``part3_*.pt``).
* :func:`load_json`: parsed JSON (``part3_*.json``, ``execution_times.json``).
* :func:`verify`: the checked path, for any other reader.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = [
    "ArtifactError",
    "load_json",
    "load_npz",
    "load_weights",
    "manifest",
    "verify",
]

MANIFEST = "MANIFEST.json"
_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256


class ArtifactError(ValueError):
    """A cached file is missing, not in the manifest, or differs from its recorded hash."""


def _directory(directory) -> Path:
    from lvmkit import data_dir

    return Path(directory) if directory is not None else data_dir()


def manifest(directory: str | Path | None = None) -> dict[str, dict]:
    """The manifest of ``directory`` (default :func:`lvmkit.data_dir`): path -> entry.

    Each entry has ``sha256``, ``bytes``, ``source`` and ``command``.
    """
    path = _directory(directory) / MANIFEST
    if not path.is_file():
        raise ArtifactError(
            f"directory {path.parent} has no {MANIFEST}: run "
            "`python3 tasks.py checksums`"
        )
    return {entry["path"]: entry for entry in json.loads(path.read_text())["files"]}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(name: str, directory: str | Path | None = None) -> Path:
    """Return the path of ``name`` in the data directory after checking its SHA-256.

    Args:
        name: File name relative to the data directory, e.g. ``"dictionary.npz"``.
        directory: Data directory (default :func:`lvmkit.data_dir`).

    Raises:
        TypeError: ``name`` is not a string.
        ArtifactError: The file is not in the manifest, is missing, or its hash differs
            (the message says how to regenerate it).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a file name (str), got {type(name).__name__}")
    root = _directory(directory)
    entries = manifest(root)
    if name not in entries:
        raise ArtifactError(
            f"name {name!r} is not listed in {root / MANIFEST}; known files: "
            f"{sorted(entries)}"
        )
    entry, path = entries[name], root / name
    how = (
        f"regenerate it with `{entry['command']}`"
        if entry.get("command")
        else "restore it from the repository"
    )
    if not path.is_file():
        raise ArtifactError(f"data file {name} is missing from {root}: {how}")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = _verified.get(key) or _sha256(path)
    if digest != entry["sha256"]:
        raise ArtifactError(
            f"data file {name} is corrupt or out of date: its SHA-256 is {digest[:16]}..., "
            f"{MANIFEST} records {entry['sha256'][:16]}...; {how} (or, if you changed it on "
            "purpose, run `python3 tasks.py checksums`)"
        )
    _verified[key] = digest
    return path


def load_npz(name: str, directory: str | Path | None = None) -> dict:
    """Arrays of a verified ``.npz`` file as a dict (``allow_pickle=False``)."""
    import numpy as np

    with np.load(verify(name, directory), allow_pickle=False) as f:
        return {key: f[key] for key in f.files}


def load_weights(name: str, directory: str | Path | None = None, *, map_location=None):
    """A verified ``torch.save`` file, loaded with ``weights_only=True`` (no pickled code)."""
    import torch

    return torch.load(
        verify(name, directory), map_location=map_location, weights_only=True
    )


def load_json(name: str, directory: str | Path | None = None):
    """A verified JSON file, parsed."""
    return json.loads(verify(name, directory).read_text())
