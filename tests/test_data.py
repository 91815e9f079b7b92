"""Every file in data/ is in the manifest with its hash and provenance; loading verifies it."""

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lvmkit import artifacts

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402  (stdlib only: the provenance table and the file walk)

MANIFEST = json.loads((DATA / "MANIFEST.json").read_text())["files"]
NAMES = [e["path"] for e in MANIFEST]


@pytest.mark.parametrize("entry", MANIFEST, ids=NAMES)
def test_manifest_hash_size_and_provenance(entry):
    path = DATA / entry["path"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], (
        f"{entry['path']} changed: run `python3 tasks.py checksums`"
    )
    assert path.stat().st_size == entry["bytes"]
    assert entry["source"], f"{entry['path']} has no source"
    if path.suffix in {
        ".npz",
        ".pt",
        ".npy",
        ".json",
    }:  # generated: a command and a README entry
        assert entry["command"], f"{entry['path']} has no regeneration command"
        assert path.name in (DATA / "README.md").read_text(), (
            f"{path.name} not in data/README.md"
        )


def test_every_file_in_data_is_in_the_manifest():
    on_disk = {p.relative_to(DATA).as_posix() for p in tasks.data_files()}
    assert on_disk == set(NAMES), (
        f"run `python3 tasks.py checksums`: {on_disk ^ set(NAMES)}"
    )


def test_sha256sums_is_the_manifest_in_sha256sum_format():
    expected = "".join(f"{e['sha256']}  {e['path']}\n" for e in MANIFEST)
    assert (DATA / "SHA256SUMS").read_text() == expected


def test_loaders_read_every_artifact_without_pickle():
    dictionary = artifacts.load_npz("dictionary.npz")
    assert dictionary["A"].shape == (144, 144) and dictionary["A"].dtype == np.float64
    assert set(artifacts.load_npz("treeworld.npz"))
    weights = artifacts.load_weights("part3_digits.pt")
    assert all(
        isinstance(v, torch.Tensor) for sd in weights.values() for v in sd.values()
    )
    assert set(artifacts.load_json("part3_digits.json")) == set(weights)


@pytest.fixture
def data_copy(tmp_path):
    for name in (
        "MANIFEST.json",
        "dictionary.npz",
        "part3_digits.pt",
        "part3_digits.json",
    ):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(
    "name", ["dictionary.npz", "part3_digits.pt", "part3_digits.json"]
)
def test_a_corrupted_copy_is_refused_with_the_regeneration_command(data_copy, name):
    artifacts.verify(name, data_copy)  # intact copy passes
    raw = bytearray((data_copy / name).read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # flip one byte
    (data_copy / name).write_bytes(bytes(raw))
    command = {e["path"]: e["command"] for e in MANIFEST}[name]
    with pytest.raises(artifacts.ArtifactError, match="corrupt") as err:
        artifacts.verify(name, data_copy)
    assert name in str(err.value) and command in str(err.value)


def test_a_missing_file_is_refused_with_the_regeneration_command(data_copy):
    (data_copy / "dictionary.npz").unlink()
    with pytest.raises(
        artifacts.ArtifactError, match=r"dictionary\.npz is missing.*make_dictionary"
    ):
        artifacts.load_npz("dictionary.npz", data_copy)


def test_load_cached_verifies_the_weights(data_copy, monkeypatch):
    from lvmkit.book.cached_models import load_cached

    monkeypatch.setenv("LVMKIT_DATA", str(data_copy))
    vae, rec = load_cached("digits_bernoulli", "digits")
    assert rec["config"]["n_latents"] == vae.n_latents
    (data_copy / "part3_digits.pt").write_bytes(b"truncated")
    with pytest.raises(artifacts.ArtifactError, match=r"part3_digits\.pt is corrupt"):
        load_cached("digits_bernoulli", "digits")


def test_unlisted_files_and_a_missing_manifest_are_refused(data_copy, tmp_path):
    with pytest.raises(artifacts.ArtifactError, match="not listed"):
        artifacts.verify("extra.npz", data_copy)
    (data_copy / "MANIFEST.json").unlink()
    with pytest.raises(artifacts.ArtifactError, match=r"no MANIFEST\.json"):
        artifacts.verify("dictionary.npz", data_copy)
    with pytest.raises(TypeError, match="name must be"):
        artifacts.verify(Path("dictionary.npz"), DATA)


def test_checksums_refuses_a_file_without_provenance(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "README.md").write_text("x")
    (data / "stray.npz").write_bytes(b"x")
    monkeypatch.setattr(tasks, "ROOT", tmp_path)
    monkeypatch.setattr(tasks, "MANIFEST", data / "MANIFEST.json")
    monkeypatch.setattr(tasks, "SUMS", data / "SHA256SUMS")
    assert tasks.cmd_checksums() == 1 and not (data / "MANIFEST.json").exists()
    (data / "stray.npz").unlink()
    assert tasks.cmd_checksums() == 0
    assert [
        e["path"] for e in json.loads((data / "MANIFEST.json").read_text())["files"]
    ] == ["README.md"]
