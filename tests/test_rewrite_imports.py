"""scripts/rewrite_imports.py: old lvmkit imports and references follow the moved names."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "rewrite_imports", ROOT / "scripts" / "rewrite_imports.py"
)
rw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rw)
MAP = rw.Map(json.loads((ROOT / "scripts" / "moved_names.json").read_text()))

OLD = """import numpy as np
from lvmkit import plotting
from lvmkit.reproducibility import check, record as rec, seed_everything, sig
from lvmkit.probes import (
    evaluate,
    factor_r2,
)
import lvmkit.plotting as P
from lvmkit import reproducibility, models
from lvmkit.vae import build_vae, load_cached as lc
from lvmkit import inference

plotting.use_style()
ax = plotting.plot_reflection(1, 2)
P.plot_tiles(3); P.plot_puzzle(4)
res = inference.lasso(1, 2, 0.1)
def f():
    from lvmkit.diagnostics import sbc_sparse_model, run_sbc
    return sbc_sparse_model
x = "see lvmkit.reproducibility.sig and lvmkit.plotting.plot_shapes"
reproducibility.check(True, "x")
%matplotlib inline
"""

NEW = """import numpy as np
from lvmkit import plotting
from lvmkit.book import figures
from lvmkit.book import check, record as rec, seed_everything, sig
from lvmkit.book.score_table import evaluate
from lvmkit.probes import factor_r2
import lvmkit.plotting as P
from lvmkit.book import notebook as reproducibility
from lvmkit import models
from lvmkit.vae import build_vae
from lvmkit.book.cached_models import load_cached as lc
from lvmkit import lasso

plotting.use_style()
ax = figures.plot_reflection(1, 2)
P.plot_tiles(3); figures.plot_puzzle(4)
res = lasso.lasso(1, 2, 0.1)
def f():
    from lvmkit.book.planted_bugs import sbc_sparse_model
    from lvmkit.diagnostics import run_sbc
    return sbc_sparse_model
x = "see lvmkit.book.sig and lvmkit.book.figures.plot_shapes"
reproducibility.check(True, "x")
%matplotlib inline
"""


def test_every_kind_of_import_and_reference_is_rewritten():
    out, warnings = rw.rewrite_code(OLD, MAP)
    assert out == NEW
    assert not warnings


def test_a_trailing_comment_stays_on_every_line():
    src = "from lvmkit.probes import evaluate, factor_r2  # noqa: E402\n"
    out, _ = rw.rewrite_code(src, MAP)
    assert out == (
        "from lvmkit.book.score_table import evaluate  # noqa: E402\n"
        "from lvmkit.probes import factor_r2  # noqa: E402\n"
    )


def test_rewriting_twice_changes_nothing():
    assert rw.rewrite_code(NEW, MAP)[0] == NEW


def test_a_name_already_bound_gets_an_alias():
    src = "from lvmkit import inference\nlasso = 1\ninference.fista(1)\n"
    out, warnings = rw.rewrite_code(src, MAP)
    assert out == "from lvmkit import lasso as lasso_\nlasso = 1\nlasso_.fista(1)\n"
    assert warnings


def test_a_module_still_used_keeps_its_import():
    src = "from lvmkit import inference\ninference.lasso(1)\nf = inference\n"
    out, _ = rw.rewrite_code(src, MAP)
    assert out.startswith("from lvmkit import inference\nfrom lvmkit import lasso\n")


def test_notebook_cells_are_one_program_and_outputs_stay(tmp_path):
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "id": "a",
                "source": ["from lvmkit import plotting\n", "plotting.use_style()"],
                "outputs": [
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": ["lvmkit.inference.lasso\n"],
                    }
                ],
            },
            {
                "cell_type": "markdown",
                "metadata": {},
                "id": "b",
                "source": ["See {func}`lvmkit.inference.lasso`."],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 2,
                "id": "c",
                "source": ["_ = plotting.plot_tree_rows(rows)"],
                "outputs": [],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb, indent=1) + "\n")
    assert rw.main([str(path)]) == 0
    new = json.loads(path.read_text())
    cells = ["".join(c["source"]) for c in new["cells"]]
    assert cells == [
        "from lvmkit import plotting\nfrom lvmkit.book import figures\n"
        "plotting.use_style()",
        "See {func}`lvmkit.lasso.lasso`.",
        "_ = figures.plot_tree_rows(rows)",
    ]
    assert new["cells"][0]["outputs"] == nb["cells"][0]["outputs"]
    assert rw.main(["--check", str(path)]) == 0


@pytest.mark.parametrize("old", sorted(MAP.names))
def test_every_moved_name_resolves(old):
    """Each new name imports (the map points at something that exists)."""
    new = MAP.names[old]
    module, name = new.rsplit(".", 1)
    assert hasattr(importlib.import_module(module), name), new
