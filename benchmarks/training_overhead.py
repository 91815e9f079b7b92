"""Row 5: one epoch of lvmkit's VAE through Lightning against a plain PyTorch loop.

The same VAE (MLP Gaussian encoder, Bernoulli MLP decoder, 8 latents, hidden width
128) on the same synthetic 12x12 shapes, batch 128, Adam: once through
:func:`lvmkit.training.fit` (``epochs=1``, on the CPU) and once through the
hand-written loop below, which seeds and shuffles exactly as ``fit`` does and runs
under the same deterministic-algorithms setting. Correctness first: the two must
produce the same loss at every step (so they do the same computation); then the wall
time of the whole call (set-up included, which is what one epoch costs a user) is
compared. Runs alternate to share the machine's noise.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from benchmarks.common import check, make_row, quiet, summary

NAME = "training_overhead"
TITLE = "VAE epoch: Lightning vs plain PyTorch loop"
GOAL = {"text": "< 10% overhead (time ratio <= 1.10)", "value": 1.10, "higher_is_better": False}
BATCH, LR, SEED = 128, 1e-3, 0


def plain_epoch(vae, x: torch.Tensor) -> list[float]:
    """One epoch of ``vae.loss`` with Adam, seeded and shuffled like ``training.fit``."""
    from torch.utils.data import DataLoader, TensorDataset

    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(SEED)
        loader = DataLoader(TensorDataset(x), batch_size=BATCH, shuffle=True,
                            generator=torch.Generator().manual_seed(SEED))
        opt = torch.optim.Adam(vae.parameters(), lr=LR)
        vae.train()
        losses = []
        for (xb,) in loader:
            loss = vae.loss(xb)
            losses.append(float(loss.detach()))
            opt.zero_grad()
            loss.backward()
            opt.step()
        vae.eval()
        return losses
    finally:
        torch.use_deterministic_algorithms(before)


def run(cfg, ctx: dict) -> dict:
    from lvmkit.datasets import make_shapes
    from lvmkit.training import fit
    from lvmkit.vae import VAE, BernoulliMLP, GaussianEncoder

    data = make_shapes(cfg.vae_images, size=12, generator=torch.Generator().manual_seed(8))
    x = data.images
    torch.manual_seed(9)
    vae0 = VAE(BernoulliMLP(8, x.shape[1]), 8, GaussianEncoder(x.shape[1], 8))

    warned: list = []
    t_plain, t_lit, plain_losses, lit_losses = [], [], None, None
    for i in range(cfg.repeats + 1):  # the first round warms both paths up, untimed
        v = copy.deepcopy(vae0)
        t0 = time.perf_counter()
        plain_losses = plain_epoch(v, x)
        t_plain.append(time.perf_counter() - t0)
        v = copy.deepcopy(vae0)
        t0 = time.perf_counter()
        lit = quiet(lambda v=v: fit(v, x, epochs=1, batch_size=BATCH, lr=LR, seed=SEED,
                                    accelerator="cpu", devices=1), warned)()
        t_lit.append(time.perf_counter() - t0)
        lit_losses = lit.history
        if i == 0:
            t_plain, t_lit = [], []
    n = min(len(plain_losses), len(lit_losses))
    diff = (np.abs(np.subtract(plain_losses[:n], lit_losses[:n])).max() if n else np.inf)
    checks = [check("same number of steps (|difference|)",
                    abs(len(plain_losses) - len(lit_losses)), 0),
              check("same loss at every step (max |difference|, nats)", diff, 1e-4)]
    peer = {"name": "plain PyTorch loop", "unit": "s", **summary(t_plain)}
    peer["figure"] = peer["median"]
    lv = {"name": "lvmkit.training.fit (Lightning)", "unit": "s", **summary(t_lit)}
    lv["figure"] = lv["median"]
    ratio = lv["median"] / peer["median"]
    details = {"lightning_warnings": sorted(set(warned)), "n_images": len(x),
               "steps_per_epoch": n, "batch_size": BATCH,
               "overhead_percent": 100 * (ratio - 1),
               "per_step_ms": {"plain": 1e3 * peer["median"] / max(n, 1),
                               "lightning": 1e3 * lv["median"] / max(n, 1)}}
    return make_row(NAME, TITLE, checks=checks, peer=peer, lvmkit=lv, ratio=ratio,
                    ratio_meaning="time ratio (Lightning / plain loop)", goal=GOAL,
                    details=details)
