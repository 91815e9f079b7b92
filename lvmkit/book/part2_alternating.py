r"""Bonus 1 and epsilon for the Bayes'-loop chapter: the alternating image/latent chain
(Zhao, Song & Ermon 2017) and a statistic that sees what the fitted model misses.

:func:`filter_energy_correlation` is a statistic of images, not of latents: the mean over
pairs ``i < j`` of the correlation of ``|u_i|`` and ``|u_j|``, where
``u = (A^T A + sigma^2 V^{-1})^{-1} A^T I`` are the responses of the model's own linear
(Wiener) filters, ``V = diag(2 s_i^2)`` the Laplace prior's variances. (``A`` itself is
singular on whitened patches, so ``A^{-1} I`` would be noise.) Natural patches have it
well above 0 (the magnitudes of filter outputs rise and fall together with local
contrast); images of a factorised linear model have it near 0. Its gap between data and
model images is a targeted measure of epsilon.

:func:`alternating_chain` starts at data images and alternates ``x ~ q(x | I)`` (a few
:func:`lvmkit.mcmc.gibbs` sweeps from the previous ``x``) and ``I ~ p(I | x)``. Each
half-step leaves the model's joint ``r(x) p(I | x)`` invariant, so the chain forgets the
data and ends at the model's images ``r(I)``; the steps in between show how fast.

pyplot is imported inside the figure functions only.
"""

from __future__ import annotations

import numpy as np
import torch

from lvmkit import validation
from lvmkit.diagnostics import run_mmd
from lvmkit.mcmc import gibbs
from lvmkit.patches import natural_patches
from lvmkit.priors import GeneralizedGaussian
from lvmkit.sparse_em import energy_correlation

__all__ = [
    "alternating_chain",
    "chain_replicate",
    "filter_energy_correlation",
    "loop_mixes",
    "plot_alternating_chain",
    "plot_eps_energy",
]

#: Kernel width of the MMD (as in :mod:`lvmkit.book.part2_bayes_loop`).
BANDWIDTH = 17.0


def filter_energy_correlation(images, A, scales, noise_std: float) -> float:
    r"""Mean over pairs ``i < j`` of ``corr(|u_i|, |u_j|)`` over the images.

    ``u = (A^T A + \sigma^2 V^{-1})^{-1} A^T I`` with ``V = diag(2 s_i^2)``: the
    posterior mean of ``x`` under a Gaussian prior with the Laplace prior's variances.

    Args:
        images: Shape ``(B, P)``.
        A: Dictionary, shape ``(P, N)``.
        scales: Laplace scales ``s_i``, shape ``(N,)``.
        noise_std: sigma.

    Returns:
        The mean correlation (0 for independent responses).
    """
    A = validation.as_float_tensor("A", A, ndim=2, dtype=torch.float64)
    scales = validation.as_float_tensor("scales", scales, ndim=1, dtype=torch.float64)
    noise_std = validation.check_positive("noise_std", noise_std)
    images = validation.as_float_tensor(
        "images", images, ndim=2, min_rows=3, dtype=torch.float64
    )
    if images.shape[1] != A.shape[0] or scales.shape[0] != A.shape[1]:
        raise ValueError(
            f"images must be (B, {A.shape[0]}) and scales ({A.shape[1]},) for A of "
            f"shape {tuple(A.shape)}, got {tuple(images.shape)} and "
            f"{tuple(scales.shape)}"
        )
    prec = A.T @ A + noise_std**2 * torch.diag(1 / (2 * scales**2))
    u = torch.linalg.solve(prec, A.T @ images.T).T
    c, _ = energy_correlation(u[None], n_boot=2)
    iu = torch.triu_indices(c.shape[0], c.shape[0], 1)
    return float(c[iu[0], iu[1]].mean())


def alternating_chain(
    A,
    scales,
    noise_std: float,
    images,
    record: tuple[int, ...],
    *,
    sweeps: int = 5,
    warmup: int = 100,
    generator: torch.Generator | None = None,
) -> dict[int, torch.Tensor]:
    r"""Zhao et al.'s chain for a sparse linear model with a Laplace prior.

    Step 0 is ``images``; step ``k`` draws ``x_k`` from ``q(x | I_{k-1})`` (``warmup``
    Gibbs sweeps at step 1, started at 0; ``sweeps`` sweeps from ``x_{k-1}`` after) and
    ``I_k = A x_k + sigma * noise``.

    Args:
        A: Dictionary, shape ``(P, N)``.
        scales: Laplace scales ``s_i``, shape ``(N,)``.
        noise_std: sigma.
        images: Starting images, shape ``(B, P)``.
        record: The steps whose images are returned (0 allowed).
        sweeps, warmup: Gibbs sweeps per step (after the first, and at the first).
        generator: Source of randomness.

    Returns:
        ``{k: I_k}`` for every ``k`` in ``record``.
    """
    A = validation.as_float_tensor("A", A, ndim=2, dtype=torch.float64)
    scales = validation.as_float_tensor("scales", scales, ndim=1, dtype=torch.float64)
    images = validation.as_float_tensor("images", images, ndim=2, dtype=torch.float64)
    if not record or any(int(k) != k or k < 0 for k in record):
        raise ValueError(f"record must be non-empty steps >= 0, got {record}")
    validation.check_int("sweeps", sweeps, 1)
    validation.check_int("warmup", warmup, 1)
    prior = GeneralizedGaussian(torch.ones_like(scales), scales)
    out = {0: images} if 0 in record else {}
    x = torch.zeros(len(images), A.shape[1], dtype=torch.float64)
    img = images
    for k in range(1, max(record) + 1):
        n = warmup if k == 1 else sweeps
        x = gibbs(
            A,
            noise_std,
            prior,
            img,
            x,
            n_samples=1,
            n_warmup=n - 1,
            generator=generator,
        ).samples[0]
        img = x @ A.T + noise_std * torch.randn(
            img.shape, generator=generator, dtype=torch.float64
        )
        if k in record:
            out[k] = img
    return out


def loop_mixes(A, scales, noise_std: float, k: int, B: int, ts) -> list[torch.Tensor]:
    """The mixes of replicate ``k`` of :func:`lvmkit.book.part2_bayes_loop.replicate`,
    rebuilt from its seeds: ``B`` images, a share ``t`` of them natural patches (seed
    20 + k) and the rest model images (its second set, generator seed 100 + k)."""
    from lvmkit.book import part2_bayes_loop as bl

    validation.check_int("B", B, 1)
    g = torch.Generator().manual_seed(100 + k)
    patches = natural_patches(B, 12, seed=20 + k).patches
    bl._images(A, bl.sample_laplace(scales, B, g), noise_std, g)  # its reference set
    other = bl._images(A, bl.sample_laplace(scales, B, g), noise_std, g)
    return [torch.cat([patches[: round(t * B)], other[round(t * B) :]]) for t in ts]


def chain_replicate(
    A, scales, noise_std: float, k: int, B: int, steps, ts, sweeps: int = 5
) -> dict:
    """One replicate of the chain and of the epsilon statistics (seeds from ``k``).

    Patches for the chain's start (seed 60 + k), held-out patches (seed 80 + k), model
    images from the prior; along the chain the filter energy correlation and MMD^2 to
    the held-out patches; along the mixing proportions ``ts`` the filter energy
    correlation of the very mixes whose epsilon (MMD^2) and eta
    ``scripts/make_bayes_loop.py`` stored (:func:`loop_mixes`).

    Returns:
        Arrays ``chain_ecorr``, ``chain_mmd`` (per step), ``mix_ecorr`` (per ``t``) and
        the references ``ecorr_heldout``, ``ecorr_model``, ``mmd_null``, ``mmd_model``.
    """
    from lvmkit.book import part2_bayes_loop as bl

    validation.check_int("B", B, 3)
    mixes = loop_mixes(A, scales, noise_std, k, B, ts)
    g = torch.Generator().manual_seed(200 + k)
    start = natural_patches(B, 12, seed=60 + k).patches.double()
    heldout = natural_patches(B, 12, seed=80 + k).patches.double()
    prior = GeneralizedGaussian(torch.ones_like(scales), scales)

    def model_images():
        return bl._images(A, prior.sample((B,), generator=g), noise_std, g)

    def mmd(a, b):
        return run_mmd(a, b, n_perm=1, bandwidth=BANDWIDTH).mmd2

    def fec(images):
        return filter_energy_correlation(images, A, scales, noise_std)

    chain = alternating_chain(
        A, scales, noise_std, start, tuple(steps), sweeps=sweeps, generator=g
    )
    model = model_images()
    return {
        "chain_ecorr": np.array([fec(chain[s]) for s in steps]),
        "chain_mmd": np.array([mmd(chain[s], heldout) for s in steps]),
        "mix_ecorr": np.array([fec(m) for m in mixes]),
        "ecorr_heldout": np.array(fec(heldout)),
        "ecorr_model": np.array(fec(model)),
        "mmd_null": np.array(mmd(start, heldout)),
        "mmd_model": np.array(mmd(model, heldout)),
    }


def plot_eps_energy(gap, gap_se, eta, eta_se, ts):
    """eta against epsilon measured by the filter energy correlation (mix minus model
    images) along the mixing proportion t, with standard errors over replicates."""
    from lvmkit.book import part2_bayes_loop as bl

    gap = validation.as_float_array("gap", gap, ndim=1)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    ax.errorbar(gap, eta, xerr=gap_se, yerr=eta_se, fmt="o-", color="C3", capsize=3)
    bl._label_t(ax, gap, eta, ts)
    ax.axvline(0, color="0.5", lw=1)
    ax.set(
        xlabel="epsilon: filter energy correlation, mix minus model images",
        ylabel="eta (nats)",
    )
    return fig


def plot_alternating_chain(steps, chain, chain_se, mmd, mmd_se, data, model, null):
    """The alternating chain from natural patches: the filter energy correlation of its
    images (left) and their MMD^2 to held-out patches (right) against the step, with
    the levels of held-out patches and of model images (mean +- 2 se bands)."""
    steps = validation.as_float_array("steps", steps, ndim=1)
    import matplotlib.pyplot as plt

    x = np.maximum(steps, 0.5)  # step 0 drawn at 0.5 on the log axis
    fig, ax = plt.subplots(1, 2, figsize=(10.0, 3.6))
    for level, label, colour in (
        (data, "held-out patches", "C3"),
        (model, "model images r(I)", "C0"),
    ):
        ax[0].axhspan(
            level[0] - 2 * level[1],
            level[0] + 2 * level[1],
            color=colour,
            alpha=0.25,
            label=label,
        )
    ax[0].errorbar(
        x,
        chain,
        yerr=chain_se,
        fmt="o-",
        color="k",
        capsize=3,
        label="chain started at patches",
    )
    ax[0].set(
        xscale="log",
        xlabel="chain step (step 0 at 0.5)",
        ylabel="filter energy correlation",
    )
    ax[0].legend(fontsize=8)
    k = 1e3
    ax[1].axhspan(
        k * (null[0] - 2 * null[1]),
        k * (null[0] + 2 * null[1]),
        color="0.85",
        label="patches vs held-out patches",
    )
    ax[1].errorbar(
        x,
        k * np.asarray(mmd),
        yerr=k * np.asarray(mmd_se),
        fmt="o-",
        color="k",
        capsize=3,
        label="chain vs held-out patches",
    )
    ax[1].set(
        xscale="log", xlabel="chain step (step 0 at 0.5)", ylabel="MMD$^2$ × 1000"
    )
    ax[1].legend(fontsize=8)
    return fig
