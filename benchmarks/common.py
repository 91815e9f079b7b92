"""Shared pieces of the benchmark suite: sizes, timing, machine facts, ESS, the result row.

Every row module exposes ``run(cfg: Config, ctx: dict) -> dict`` and builds its
result with :func:`make_row`, which decides "met" or "missed (by how much)" from the
measured ratio and a fixed goal. ``ctx`` carries data shared between rows (patches,
the learned dictionary), so one run computes them once.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from lvmkit.diagnostics import effective_sample_size as ess

__all__ = [
    "PENALTY",
    "Config",
    "check",
    "dictionary",
    "ess",
    "load_average",
    "machine_info",
    "make_row",
    "patches",
    "quiet",
    "summary",
    "timed",
]

#: Lasso penalty lambda used by every sparse-coding row (patches have unit pixel variance).
PENALTY = 0.5


@dataclass(frozen=True)
class Config:
    """Sizes of one run; :meth:`quick` is the smoke-test version of :meth:`full`."""

    quick: bool
    n_patches: int = 10_000  # row 1 (>= 10,000 in a full run)
    n_atoms: int = 288  # 2x overcomplete for 12x12 patches
    repeats: int = 5  # timing repeats of the fast methods
    slow_repeats: int = 3  # timing repeats of the slow (peer) methods
    dict_steps: int = 150  # steps of the shared learned dictionary
    dl_train: int = 20_000  # row 2: training patches
    dl_test: int = 2_000  # row 2: held-out patches
    dl_sklearn_steps: int = 128  # row 2: minibatches given to sklearn
    dl_lvmkit_ladder: tuple[int, ...] = (8, 16, 32, 64, 128)
    long_repeats: int = 2  # repeats of the runs that take minutes (rows 2, 3)
    hmc_images: int = 1_000  # row 3: batch of posteriors
    hmc_samples: int = 300
    hmc_warmup: int = 200
    nuts_images: int = 20  # row 3: posteriors NUTS runs on (one after another)
    nuts_samples: int = 300
    nuts_warmup: int = 200
    mi_n: int = 2_000  # row 4: samples per estimate
    mi_reps: int = 4
    mi_dims: tuple[int, ...] = (1, 2, 5, 10, 20)
    mi_nats: tuple[float, ...] = (0.1, 1.0, 3.0, 10.0)
    vae_images: int = 10_000  # row 5
    scale_n: tuple[int, ...] = (1_000, 3_000, 10_000, 30_000, 100_000)
    scale_atoms: tuple[int, ...] = (144, 288, 576)
    extra: dict = field(default_factory=dict)

    @classmethod
    def full(cls) -> Config:
        return cls(quick=False)

    @classmethod
    def quick_config(cls) -> Config:
        return cls(
            quick=True,
            n_patches=120,
            n_atoms=32,
            repeats=2,
            slow_repeats=1,
            dict_steps=5,
            long_repeats=1,
            dl_train=300,
            dl_test=60,
            dl_sklearn_steps=4,
            dl_lvmkit_ladder=(2, 4),
            hmc_images=30,
            hmc_samples=40,
            hmc_warmup=40,
            nuts_images=2,
            nuts_samples=40,
            nuts_warmup=40,
            mi_n=150,
            mi_reps=2,
            mi_dims=(1, 3),
            mi_nats=(0.1, 1.0),
            vae_images=256,
            scale_n=(100, 200),
            scale_atoms=(16, 32),
        )

    @property
    def patch_side(self) -> int:
        """12 in a full run; 4 in quick mode (so 32 atoms are 2x overcomplete)."""
        return 4 if self.quick else 12


def timed(fn: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    """Call ``fn`` ``repeats`` times; return the wall times (s) and the last result."""
    times, out = [], None
    for _ in range(int(repeats)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def summary(values: list[float]) -> dict:
    """Median and spread (min, max) of repeated measurements."""
    v = [float(x) for x in values]
    return {
        "median": statistics.median(v),
        "min": min(v),
        "max": max(v),
        "n": len(v),
        "values": v,
    }


@functools.lru_cache(maxsize=8)
def patches(n: int, side: int, seed: int = 0) -> torch.Tensor:
    """Whitened natural-image patches (lvmkit.patches), ``(n, side * side)`` float64."""
    from lvmkit.patches import natural_patches

    return natural_patches(n, side, seed=seed).patches


def dictionary(cfg: Config, ctx: dict, n_atoms: int | None = None) -> torch.Tensor:
    """A dictionary learned by lvmkit on held-apart patches (seed 1), cached in ``ctx``.

    Benchmarks of inference run on a *learned* dictionary, whose atoms are coherent
    the way a reader's would be; a random one is easier for every solver.
    """
    from lvmkit.sparse_coding import learn_dictionary

    n_atoms = cfg.n_atoms if n_atoms is None else n_atoms
    key = ("dictionary", n_atoms)
    if key not in ctx:
        X = patches(
            max(4_000, 4 * n_atoms) if not cfg.quick else 200, cfg.patch_side, seed=1
        )
        res = learn_dictionary(
            X,
            n_atoms,
            PENALTY,
            n_steps=cfg.dict_steps,
            batch_size=256,
            generator=torch.Generator().manual_seed(1),
        )
        ctx[key] = res.A
    return ctx[key]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """CPU, core count, thread settings, library versions, date (UTC), load average."""
    import scipy
    import sklearn

    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    try:
        import jax
        import numpyro

        info["numpyro"], info["jax"] = numpyro.__version__, jax.__version__
    except ImportError:
        info["numpyro"] = None
    try:
        import pytorch_lightning as pl

        info["pytorch_lightning"] = pl.__version__
    except ImportError:
        pass
    return info


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (None where the OS does not say)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def make_row(
    name: str,
    title: str,
    *,
    checks: list[dict],
    peer: dict | None,
    lvmkit: dict | None,
    ratio: float | None,
    ratio_meaning: str,
    goal: dict | None,
    details: dict | None = None,
    note: str = "",
) -> dict:
    """Assemble one result row and decide whether it passed and met its goal.

    Args:
        checks: ``[{"name", "value", "tolerance", "passed"}]``; speed is only reported
            (``ratio`` kept) when every check passed.
        peer, lvmkit: ``{"name", "figure", "unit", ...summary}``.
        ratio: The compared quantity (e.g. peer time / lvmkit time).
        ratio_meaning: What the ratio is, in words.
        goal: ``{"text", "value", "higher_is_better"}`` or None (no goal).
    """
    correct = all(bool(c["passed"]) for c in checks)
    row = {
        "name": name,
        "title": title,
        "correct": correct,
        "checks": checks,
        "peer": peer,
        "lvmkit": lvmkit,
        "ratio": ratio if correct else None,
        "ratio_meaning": ratio_meaning,
        "goal": goal,
        "met": None,
        "shortfall": None,
        "details": details or {},
        "note": note,
    }
    if not correct:
        row["status"] = "correctness check FAILED: speed not reported"
    elif goal is None or ratio is None:
        row["status"] = "reported (no speed goal)" if goal is None else "not measured"
    else:
        hib = goal["higher_is_better"]
        met = ratio >= goal["value"] if hib else ratio <= goal["value"]
        row["met"] = bool(met)
        if met:
            row["status"] = "met"
        else:
            factor = goal["value"] / ratio if hib else ratio / goal["value"]
            row["shortfall"] = float(factor)
            where = "below" if hib else "above"
            row["status"] = (
                f"missed: {ratio:.3g} is a factor {factor:.3g} {where} "
                f"the goal {goal['value']:g}"
            )
    return row


def quiet(fn: Callable[[], object], counter: list) -> Callable[[], object]:
    """Wrap ``fn`` so that the warnings it raises are counted in ``counter``, not shown.

    scikit-learn's ``ConvergenceWarning`` and Lightning's notices are facts about the
    peers that the row records (as counts) rather than noise on the console.
    """

    def wrapped():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn()
        counter.extend(
            f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught
        )
        return out

    return wrapped


def check(name: str, value: float, tolerance: float, *, at_most: bool = True) -> dict:
    """A correctness check ``value <= tolerance`` (or ``>=`` with ``at_most=False``)."""
    value = float(value)
    passed = value <= tolerance if at_most else value >= tolerance
    return {
        "name": name,
        "value": value,
        "tolerance": float(tolerance),
        "relation": "<=" if at_most else ">=",
        "passed": bool(passed and np.isfinite(value)),
    }
