"""Every cached artifact in data/ matches its recorded checksum, and has provenance."""

import hashlib
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


def entries():
    sums = DATA / "SHA256SUMS"
    if not sums.exists():
        return []
    return [line.split(maxsplit=1) for line in sums.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(("digest", "name"), entries(), ids=[e[1] for e in entries()])
def test_checksum(digest, name):
    assert hashlib.sha256((DATA / name.strip()).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize(("digest", "name"), entries(), ids=[e[1] for e in entries()])
def test_artifact_has_provenance(digest, name):
    assert Path(name.strip()).name in (DATA / "README.md").read_text(), (
        f"{name} undocumented in data/README.md"
    )


def test_every_artifact_is_checksummed():
    listed = {e[1].strip() for e in entries()}
    artifacts = {
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.suffix in {".npz", ".pt", ".npy"}
    }
    assert artifacts <= listed, f"run `python3 tasks.py checksums`: {sorted(artifacts - listed)}"
