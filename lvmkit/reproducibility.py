"""Seeding and reporting helpers that make a notebook's outputs reproducible.

Every chapter starts with :func:`seed_everything`, which seeds Python, NumPy and
torch and prints the seed, so the reader sees on the page which seed produced the
numbers. :func:`sig` rounds a number to a few significant digits before it is
printed or glued: stored outputs are compared by nbval as text, and the last
digits of a float depend on the CPU and the number of threads. :func:`record` glues a
rounded value for the prose (``{glue:text}`name```) and never displays it.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch

__all__ = ["record", "seed_everything", "sig"]


def seed_everything(seed: int = 0, *, verbose: bool = True) -> torch.Generator:
    """Seed Python's, NumPy's and torch's global generators.

    Args:
        seed: Non-negative integer seed.
        verbose: Print ``seed = <seed>`` so the seed is visible on the page.

    Returns:
        A fresh ``torch.Generator`` seeded with ``seed``, to pass as ``generator=``
        to lvmkit functions that draw randomness.

    Raises:
        ValueError: If ``seed`` is not a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeding the legacy global RNG is the point
    torch.manual_seed(seed)
    if verbose:
        print(f"seed = {seed}")
    return torch.Generator().manual_seed(seed)


def sig(x: float, digits: int = 3) -> float:
    """Round ``x`` to ``digits`` significant digits (for printing and glueing).

    Args:
        x: A real number (Python, NumPy or a one-element torch tensor).
        digits: Number of significant digits, at least 1.

    Returns:
        The rounded value as a Python float; NaN and infinities pass through.

    Examples:
        >>> sig(0.0123456, 3)
        0.0123
        >>> sig(98765.4, 2)
        99000.0
    """
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or digits < 1:
        raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
    try:
        if isinstance(x, (str, bytes)):
            raise TypeError
        x = float(x.item() if hasattr(x, "item") else x)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"x must be a real number, got {type(x).__name__} {x!r}") from None
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def record(name: str, value: float | int | str, digits: int | None = 3) -> None:
    """Glue ``value`` under ``name`` for the prose, rounded, without displaying it.

    The book's bookkeeping helper: ``record("eta", loop.eta)`` stores ``sig(loop.eta,
    3)`` in the cell's outputs (myst-nb's ``glue(..., display=False)``), where the
    page's ``{glue:text}`eta``` reads it; nothing appears under the cell. Integers and
    strings are stored as they are.

    Args:
        name: The glue name, a Python identifier.
        value: A real number (rounded with :func:`sig`), an integer or a string.
        digits: Significant digits for a real number; ``None`` keeps it unrounded
            (only for values that are exact, e.g. a fraction of counts).

    Raises:
        ValueError: If ``name`` is not an identifier.
        TypeError: If ``value`` is not a number or a string.
    """
    from myst_nb import glue  # a book dependency, imported only when a page glues

    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier, got {name!r}")
    if isinstance(value, bool) or not isinstance(value, (str, int, np.integer)):
        value = value if digits is None else sig(value, digits)
    elif isinstance(value, np.integer):
        value = int(value)
    glue(name, value, display=False)
