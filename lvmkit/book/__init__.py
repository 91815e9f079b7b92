"""The book's own pieces: what exists only for the chapters.

The general library (every other module of :mod:`lvmkit`) never imports this package
(an import-linter contract in ``pyproject.toml``, checked by ``tests/test_layers.py``).
A reader who copies a chapter's cells into a project of their own needs this package
for the chapter's bookkeeping and figures, not for its statistics.

* :mod:`~lvmkit.book.notebook`: :func:`seed_everything`, :func:`sig`, :func:`record`
  (a glue that never displays), :func:`check` (one claim line),
  :func:`replicates` / :func:`check_replicates` (the claim rule over seeds).
* :mod:`~lvmkit.book.figures`: one ``plot_*`` function per figure of a chapter.
* :mod:`~lvmkit.book.planted_bugs`: the SBC chapter's bugs, planted from outside the
  sampler (a wrong model, wrong acceptance rules).
* :mod:`~lvmkit.book.cached_models`: the part-3 models, loaded from the cache.
* :mod:`~lvmkit.book.score_table`: the part-3 score table of a model.

Importing :mod:`lvmkit.book` loads the notebook helpers only (numpy and torch); the
other modules are imported by name.
"""

from lvmkit.book.notebook import (
    Replicates,
    check,
    check_replicates,
    record,
    replicates,
    seed_everything,
    sig,
)

__all__ = [
    "Replicates",
    "check",
    "check_replicates",
    "record",
    "replicates",
    "seed_everything",
    "sig",
]
