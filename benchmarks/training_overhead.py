"""Row 5: one epoch of lvmkit's VAE through Lightning against a plain PyTorch loop.

The same VAE (MLP Gaussian encoder, Bernoulli MLP decoder, 8 latents, hidden width
128) on the same synthetic 12x12 shapes, batch 128, Adam: once through
:func:`lvmkit.training.fit` (``epochs=1``, on the CPU) and once through the
hand-written loop below, which seeds and shuffles exactly as ``fit`` does (neither
forces deterministic algorithms). Correctness first: the two must produce the same loss
at every step (so they do the same computation). Then the figure the goal judges is the
*epoch*: the plain loop's whole epoch (data loader, optimiser and all steps) against the
epoch inside Lightning, timed by a callback from ``on_train_epoch_start`` to
``on_train_epoch_end``. ``fit()``'s fixed cost around the epoch (building the Trainer,
the strategy, hooks and teardown) is measured separately and reported next to it, as is
the ratio of whole calls, so nothing is hidden.

An epoch takes a fraction of a second, so a busy machine can slow either side of one
comparison by more than the overhead being measured. The runs therefore come in pairs,
one plain epoch and one Lightning epoch back to back (the order alternates), and the
ratio judged is the median over pairs of the ratio within each pair: a slow spell
hits both halves of a pair, while a ratio of two medians taken from different moments
can even come out below 1.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from benchmarks.common import check, make_row, quiet, summary

NAME = "training_overhead"
TITLE = "VAE epoch: Lightning vs plain PyTorch loop"
GOAL = {
    "text": "< 10% overhead (time ratio <= 1.10)",
    "value": 1.10,
    "higher_is_better": False,
}
BATCH, LR, SEED = 128, 1e-3, 0
PAIRS_PER_REPEAT = 3  # 15 timed pairs in a full run (5 repeats)


def plain_epoch(vae, x: torch.Tensor) -> list[float]:
    """One epoch of ``vae.loss`` with Adam, seeded and shuffled like ``training.fit``."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(SEED)
    loader = DataLoader(
        TensorDataset(x),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(SEED),
    )
    opt = torch.optim.Adam(vae.parameters(), lr=LR)
    vae.train()
    losses = []
    for (xb,) in loader:
        loss = vae.loss(xb)
        losses.append(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    vae.eval()
    return torch.stack(losses).tolist()


def _epoch_timer():
    """A Lightning callback that records the wall time of each training epoch."""
    import pytorch_lightning as pl

    class EpochTimer(pl.Callback):
        def __init__(self):
            self.seconds: list[float] = []

        def on_train_epoch_start(self, trainer, module):
            self._t0 = time.perf_counter()

        def on_train_epoch_end(self, trainer, module):
            self.seconds.append(time.perf_counter() - self._t0)

    return EpochTimer()


def _paired_epochs(vae0, x: torch.Tensor, n_pairs: int, warned: list):
    """``n_pairs`` timed pairs (plus one untimed warm-up pair) of one plain epoch and one
    epoch through :func:`lvmkit.training.fit`, back to back, the order alternating.

    Returns the plain epochs' seconds, the Lightning epochs' seconds (callback-timed),
    the whole ``fit`` calls' seconds, and the last losses of either loop.
    """
    from lvmkit.training import fit

    t_plain, t_epoch, t_lit, losses = [], [], [], {}

    def run_plain():
        v = copy.deepcopy(vae0)
        t0 = time.perf_counter()
        losses["plain"] = plain_epoch(v, x)
        t_plain.append(time.perf_counter() - t0)

    def run_lightning():
        v = copy.deepcopy(vae0)
        timer = _epoch_timer()
        t0 = time.perf_counter()
        lit = quiet(
            lambda: fit(
                v,
                x,
                epochs=1,
                batch_size=BATCH,
                lr=LR,
                seed=SEED,
                accelerator="cpu",
                devices=1,
                callbacks=[timer],
            ),
            warned,
        )()
        t_lit.append(time.perf_counter() - t0)
        t_epoch.append(timer.seconds[0])
        losses["lightning"] = lit.history

    for i in range(n_pairs + 1):  # pair 0 warms up, untimed
        for step in (run_plain, run_lightning) if i % 2 else (run_lightning, run_plain):
            step()
        if i == 0:
            for times in (t_plain, t_epoch, t_lit):
                times.clear()
    return t_plain, t_epoch, t_lit, losses["plain"], losses["lightning"]


def run(cfg, ctx: dict) -> dict:
    from lvmkit.datasets import make_shapes
    from lvmkit.vae import VAE, BernoulliMLP, GaussianEncoder

    data = make_shapes(
        cfg.vae_images, size=12, generator=torch.Generator().manual_seed(8)
    )
    x = data.images
    torch.manual_seed(9)
    vae0 = VAE(BernoulliMLP(8, x.shape[1]), 8, GaussianEncoder(x.shape[1], 8))

    warned: list = []
    t_plain, t_epoch, t_lit, plain_losses, lit_losses = _paired_epochs(
        vae0, x, PAIRS_PER_REPEAT * cfg.repeats, warned
    )
    # Lightning's own cost per step, measured the same way on a VAE with next to no
    # arithmetic (1 latent, hidden width 1), the same data, batches and optimiser
    torch.manual_seed(9)
    tiny = VAE(
        BernoulliMLP(1, x.shape[1], hidden=1),
        1,
        GaussianEncoder(x.shape[1], 1, hidden=1),
    )
    f_plain, f_epoch, _, _, _ = _paired_epochs(tiny, x, cfg.repeats, warned)
    n = min(len(plain_losses), len(lit_losses))
    diff = np.abs(np.subtract(plain_losses[:n], lit_losses[:n])).max() if n else np.inf
    checks = [
        check(
            "same number of steps (|difference|)",
            abs(len(plain_losses) - len(lit_losses)),
            0,
        ),
        check("same loss at every step (max |difference|, nats)", diff, 1e-4),
    ]
    peer = {"name": "plain PyTorch loop (one epoch)", "unit": "s", **summary(t_plain)}
    peer["figure"] = peer["median"]
    lv = {
        "name": "lvmkit.training.fit (Lightning), the epoch",
        "unit": "s",
        **summary(t_epoch),
    }
    lv["figure"] = lv["median"]
    pair_ratios = [e / p for e, p in zip(t_epoch, t_plain, strict=True)]
    ratio = summary(pair_ratios)["median"]
    fixed = [a - b for a, b in zip(t_lit, t_epoch, strict=True)]
    whole = summary(t_lit)
    details = {
        "lightning_warnings": sorted(set(warned)),
        "n_images": len(x),
        "steps_per_epoch": n,
        "batch_size": BATCH,
        "overhead_percent": 100 * (ratio - 1),
        "pair_ratios": summary(pair_ratios),
        "ratio_of_medians": lv["median"] / peer["median"],
        "fit_call_seconds": whole,
        "fit_fixed_cost_seconds": summary(fixed),
        "whole_call_ratio": whole["median"] / peer["median"],
        "whole_call_overhead_percent": 100 * (whole["median"] / peer["median"] - 1),
        "per_step_ms": {
            "plain": 1e3 * peer["median"] / max(n, 1),
            "lightning": 1e3 * lv["median"] / max(n, 1),
        },
        "lightning_floor_ms_per_step": summary(
            [1e3 * (e - p) / max(n, 1) for e, p in zip(f_epoch, f_plain, strict=True)]
        ),
        "overhead_ms_per_step": summary(
            [1e3 * (e - p) / max(n, 1) for e, p in zip(t_epoch, t_plain, strict=True)]
        ),
    }
    return make_row(
        NAME,
        TITLE,
        checks=checks,
        peer=peer,
        lvmkit=lv,
        ratio=ratio,
        ratio_meaning="epoch time ratio (Lightning epoch / plain-loop epoch), "
        "median over back-to-back pairs; fit()'s fixed cost is in details",
        goal=GOAL,
        details=details,
    )
