#!/usr/bin/env python3
"""Rewrite the sections of ``chapters/api-reference.md``: one per lvmkit module.

A package gets its front door's docstring (which file holds what); a module gets its
public names. The order: the general library as the chapters meet it, then the book's
layer. ``tests/test_api_reference.py`` checks that every module has its section.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

import lvmkit

PAGE = Path(__file__).resolve().parents[1] / "chapters" / "api-reference.md"
ORDER = [
    "models",
    "priors",
    "lasso",
    "mcmc",
    "estimators",
    "diagnostics",
    "mixtures",
    "treeworld",
    "grid_posteriors",
    "patches",
    "sparse_coding",
    "scramble",
    "vae",
    "training",
    "datasets",
    "probes",
    "plotting",
    "validation",
    "artifacts",
    "book",
]


def modules() -> list[tuple[str, bool]]:
    found = {m.name: m.ispkg for m in pkgutil.walk_packages(lvmkit.__path__, "lvmkit.")}

    def key(name: str):
        top = name.split(".")[1]
        return (ORDER.index(top) if top in ORDER else len(ORDER), name)

    return sorted(found.items(), key=lambda kv: key(kv[0]))


def main() -> None:
    text = PAGE.read_text()
    head = text[: text.index("## lvmkit.")]
    parts = [head.rstrip("\n") + "\n"]
    for name, ispkg in modules():
        options = "" if ispkg else "   :members:\n"
        parts.append(
            f"\n## {name}\n\n```{{eval-rst}}\n.. automodule:: {name}\n{options}```\n"
        )
    PAGE.write_text("".join(parts))


if __name__ == "__main__":
    main()
