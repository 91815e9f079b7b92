"""Seeding and reporting helpers that make a notebook's outputs reproducible.

Every chapter starts with :func:`seed_everything`, which seeds Python, NumPy and
torch and prints the seed, so the reader sees on the page which seed produced the
numbers. :func:`sig` rounds a number to a few significant digits before it is
printed or glued: stored outputs are compared by nbval as text, and the last
digits of a float depend on the CPU and the number of threads. :func:`record` glues a
rounded value for the prose (``{glue:text}`name```) and never displays it.
:func:`check` closes a section: it asserts the section's claim and shows it as one
recognisable line, ``✓ claim checked: ...``, instead of a wall of asserts.
:func:`replicates` summarises a quantity over seeds (mean, standard error) and
:func:`check_replicates` asserts a claim about its mean with a declared failure rate
(a one-sided Student-t test): the claim rule for anything trained or sampled.
"""

from __future__ import annotations

import html
import math
import random
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

__all__ = [
    "Replicates",
    "check",
    "check_replicates",
    "record",
    "replicates",
    "seed_everything",
    "sig",
]


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
    if (
        isinstance(digits, bool)
        or not isinstance(digits, (int, np.integer))
        or digits < 1
    ):
        raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
    try:
        if isinstance(x, (str, bytes)):
            raise TypeError
        x = float(x.item() if hasattr(x, "item") else x)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(
            f"x must be a real number, got {type(x).__name__} {x!r}"
        ) from None
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


# The style of a claim line on the rendered page (inline, so the page needs no extra CSS;
# translucent colours read on the light and the dark theme).
_CHECK_STYLE = (
    "border-left: 4px solid #2e7d32; background: rgba(46, 125, 50, 0.08); "
    "padding: 0.35em 0.75em; margin: 0.25em 0; font-family: var(--pst-font-family-base, "
    "sans-serif); overflow-wrap: anywhere"
)


def _truth(value: object, where: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    size = (
        value.numel()
        if isinstance(value, torch.Tensor)
        else getattr(value, "size", None)
    )
    if isinstance(value, (np.ndarray, torch.Tensor)) and size == 1:
        return bool(value.item())
    raise TypeError(
        f"condition must be a bool (or a sequence of bools), got {type(value).__name__} "
        f"{value!r} at {where}: reduce an array with .all() or np.all() first"
    )


def check(
    condition: bool | Sequence[bool], message: str, *, label: str = "claim checked"
) -> None:
    """Assert a section's claim and show it on the page as one line.

    The book's closing check of a section: ``check(eta > 5 * se, f"eta = {eta} ...")``
    prints ``✓ claim checked: eta = ...`` (in a notebook, a styled line whose
    ``text/plain`` form is that same text on one line, which nbval compares; the page
    shows the HTML form, wrapped to the column) when the claim holds,
    and raises ``AssertionError`` with the message when it does not. Several conditions
    of one claim go in a list; the error names the first that fails.

    Args:
        condition: A bool (Python, NumPy or a one-element tensor), or a list or tuple
            of them, all of which must hold.
        message: The claim in one sentence, with the measured numbers in it.
        label: What kind of check the line reports (e.g. ``"cache checked"`` for a
            check that a cached artefact is reproduced).

    Raises:
        AssertionError: If a condition is false.
        TypeError: If a condition is not a bool (e.g. an array of several values).
        ValueError: If ``message`` or ``label`` is empty or not a string.
    """
    for name, text in (("message", message), ("label", label)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    conditions = (
        list(condition) if isinstance(condition, (list, tuple)) else [condition]
    )
    if not conditions:
        raise ValueError("condition must hold at least one bool, got an empty sequence")
    for i, value in enumerate(conditions):
        where = f"condition {i}" if len(conditions) > 1 else "the condition"
        if not _truth(value, where):
            raise AssertionError(f"✗ {label} failed ({where} is false): {message}")
    # One line, never wrapped: nbval compares this text word for word, and a wrap that
    # moved with the width of a number would change it. The page shows the HTML form,
    # which wraps to the column.
    text = f"✓ {label}: {message}"
    line = text
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython comes with the book's kernel
        shell = None
    if shell is None or not hasattr(shell, "kernel"):
        print(text)
        return
    from IPython.display import display

    body = html.escape(line)
    display(
        {
            "text/plain": text,
            "text/html": f'<div class="lvmkit-claim" style="{_CHECK_STYLE}">{body}</div>',
        },
        raw=True,
    )


class Replicates(NamedTuple):
    """A quantity measured over independent replicates (training seeds, data sets).

    Attributes:
        mean: The mean over replicates.
        se: Its standard error, ``std(ddof=1) / sqrt(n)`` (``nan`` for one replicate).
        n: The number of replicates.
        values: The replicates themselves, shape ``(n,)``.
    """

    mean: float
    se: float
    n: int
    values: np.ndarray

    def __str__(self) -> str:
        return f"{sig(self.mean, 3)} ± {sig(self.se, 2)} (n = {self.n})"


def replicates(values: Sequence[float] | np.ndarray | torch.Tensor) -> Replicates:
    """Summarise independent replicates: mean, standard error, count.

    For two models measured on the same replicates (the same seeds, or the same test
    images), pass the differences ``a - b``: their standard error is the *paired* one,
    which removes what the two share.

    Args:
        values: Finite numbers, shape ``(n,)`` with ``n >= 1``.

    Returns:
        A :class:`Replicates`.

    Raises:
        ValueError: If ``values`` is empty, not one-dimensional or not finite.
    """
    v = np.asarray(
        values.detach().cpu() if isinstance(values, torch.Tensor) else values,
        dtype=float,
    )
    if v.ndim != 1 or v.size == 0:
        raise ValueError(
            f"values must be a non-empty 1-D sequence, got shape {v.shape}"
        )
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")
    return Replicates(float(v.mean()), se, int(v.size), v)


def check_replicates(
    values: Sequence[float] | np.ndarray | torch.Tensor,
    message: str,
    *,
    above: float | None = None,
    below: float | None = None,
    rate: float = 0.01,
) -> Replicates:
    """Assert a claim about the mean over replicates with a declared failure rate.

    The claim "the mean exceeds ``above``" (or "lies below ``below``") is checked by a
    one-sided Student-t test over the ``n`` replicates: it holds when the one-sided
    ``1 - rate`` confidence bound, ``mean - t_{1-rate, n-1} se`` (or ``mean + ...``),
    clears the threshold. ``rate`` is the declared failure rate: the probability that
    the check passes although the true mean sits on the threshold. The claim line shows
    the measured mean and standard error, ``n`` and the rate after ``message``.

    Args:
        values: One number per replicate, shape ``(n,)`` with ``n >= 3``; differences
            ``a - b`` for a paired comparison.
        message: The claim in words, e.g. ``"InfoVAE's MI exceeds the VAE's"``.
        above: The threshold the mean must exceed.
        below: The threshold the mean must stay under (at least one of the two).
        rate: The declared failure rate, in (0, 0.5).

    Returns:
        The :class:`Replicates` summary (for the prose).

    Raises:
        ValueError: If fewer than 3 replicates, no threshold, or ``rate`` outside
            (0, 0.5).
        AssertionError: If the claim fails.
    """
    from scipy import stats

    r = replicates(values)
    if r.n < 3:
        raise ValueError(f"values must hold at least 3 replicates, got {r.n}")
    if above is None and below is None:
        raise ValueError("give above=, below= or both")
    if not (isinstance(rate, float) and 0 < rate < 0.5):
        raise ValueError(f"rate must be a float in (0, 0.5), got {rate!r}")
    t = float(stats.t.isf(rate, r.n - 1))
    conditions, bounds = [], []
    if above is not None:
        conditions.append(r.mean - t * r.se > above)
        bounds.append(f"> {sig(above, 3)}")
    if below is not None:
        conditions.append(r.mean + t * r.se < below)
        bounds.append(f"< {sig(below, 3)}")
    check(
        conditions,
        f"{message}: {r} {' and '.join(bounds)}, one-sided t test, failure rate {rate:g}",
    )
    return r
