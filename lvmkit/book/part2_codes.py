"""Part 2's own experiments on the sparse codes of natural patches, and their figures.

* :func:`map_prior_em`: ``r <- q`` with ``q`` replaced by the MAP code (a Laplace prior,
  scales fitted to the codes): failure mode 1, the prior collapsing to a point.
* :func:`axis_preference`: how much a prior family prefers the learned latent axes to a
  random rotation of them (failure mode 3: a flexible prior has no preferred axes).
* :func:`energy_correlations`: correlations of ``|x_i|`` and ``|x_j|`` over patches, by
  atom pair, against an independently shuffled baseline (intuition 4 on real codes).
* Figures: :func:`plot_weighted_sum`, :func:`plot_gabor_distributions`,
  :func:`plot_energy_correlations`, :func:`plot_prior_em`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from lvmkit import validation
from lvmkit.lasso import lasso

__all__ = [
    "MapEMResult",
    "axis_preference",
    "energy_correlations",
    "map_prior_em",
    "plot_energy_correlations",
    "plot_gabor_distributions",
    "plot_prior_em",
    "plot_weighted_sum",
]


class MapEMResult(NamedTuple):
    """Scales per step ``(T + 1, N)`` and the fraction of nonzero codes per step ``(T,)``."""

    scale: np.ndarray
    active: np.ndarray


def map_prior_em(
    images,
    A,
    noise_std: float,
    scale0: float,
    *,
    per_latent: bool = True,
    n_steps: int = 15,
) -> MapEMResult:
    r"""``r <- q`` for a Laplace prior with ``q(x | I)`` replaced by the MAP code.

    With scales ``s_i`` the MAP is the weighted lasso
    ``min 1/2 |I - A x|^2 + sigma^2 sum_i |x_i| / s_i``, solved as a plain lasso in
    ``z_i = x_i / s_i`` with the dictionary ``A diag(s)``; the Laplace fit to the codes
    is ``s_i <- mean_b |x_bi|`` (``per_latent``) or one shared ``s <- mean |x|``.
    A latent whose scale reaches 0 has the prior ``delta(0)``: every posterior is then
    that point mass too, so it is exactly self-consistent and useless.
    """
    images = validation.as_float_tensor("images", images, ndim=2)
    A = validation.as_float_tensor("A", A, ndim=2, dtype=images.dtype)
    validation.check_int("n_steps", n_steps, 1)
    s = np.full(A.shape[1], validation.check_positive("scale0", scale0))
    scales, active = [s.copy()], []
    for _ in range(n_steps):
        st = torch.as_tensor(s, dtype=A.dtype)
        x = lasso(images, A * st, noise_std**2).x * st
        absx = x.abs().numpy()
        s = absx.mean(0) if per_latent else np.full_like(s, absx.mean())
        scales.append(s.copy())
        active.append(float((absx > 0).mean()))
    return MapEMResult(np.array(scales), np.array(active))


def axis_preference(
    train, test, rotation, family: str, *, n_components: int = 8, seed: int = 0
) -> tuple[float, float]:
    r"""Held-out log-likelihood per code of ``family`` in the given axes and in rotated
    axes: ``(mean log r(u), mean log r'(R u))``, each prior fitted to its own training
    codes. Their difference is the family's preference for the given axes.

    ``family``: ``"factorised"`` (a generalised Gaussian per coordinate,
    :func:`lvmkit.prior_em.fit_generalized_gaussian` with one group per coordinate) or
    ``"mixture"`` (a full-covariance Gaussian mixture of ``n_components``, a flexible
    joint prior). Codes ``(n, d)``; ``rotation`` an orthogonal ``(d, d)``.
    """
    from scipy import stats
    from sklearn.mixture import GaussianMixture

    from lvmkit.prior_em import fit_generalized_gaussian

    tr = validation.as_float_array("train", train, ndim=2)
    te = validation.as_float_array("test", test, ndim=2)
    R = validation.as_float_array(
        "rotation", rotation, shape=(tr.shape[1], tr.shape[1])
    )
    if family not in ("factorised", "mixture"):
        raise ValueError(f"family must be 'factorised' or 'mixture', got {family!r}")

    def score(a, b):
        if family == "factorised":
            al, sc = fit_generalized_gaussian(a, np.arange(a.shape[1]))
            return float(stats.gennorm.logpdf(b, al, scale=sc).sum(1).mean())
        gm = GaussianMixture(
            n_components,
            covariance_type="full",
            reg_covar=1e-6,
            random_state=seed,
            max_iter=200,
        ).fit(a)
        return float(gm.score(b))

    return score(tr, te), score(tr @ R.T, te @ R.T)


def energy_correlations(
    codes, *, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    r"""Correlation over patches of ``|x_i|`` and ``|x_j|`` for every pair ``i < j``.

    Returns ``(observed, shuffled)``: the pairs' correlations for the codes ``(B, N)``
    and for the same codes with each column permuted independently (the baseline of
    independent latents with the same marginals). Latents that are never active are
    left out.
    """
    x = np.abs(validation.as_float_array("codes", codes, ndim=2, min_rows=3))
    x = x[:, x.std(0) > 0]
    iu = np.triu_indices(x.shape[1], 1)
    shuffled = np.stack([generator.permutation(c) for c in x.T], 1)
    return np.corrcoef(x.T)[iu], np.corrcoef(shuffled.T)[iu]


# --- figures -----------------------------------------------------------------------


def plot_weighted_sum(patch, atoms, weights, residual, *, n_terms: int = 6):
    """A patch drawn as ``sum_i x_i A_i + residual``: patch = w1 x atom1 + ... tiles."""
    import matplotlib.pyplot as plt

    validation.as_float_array("patch", patch)
    validation.as_float_array("atoms", atoms)

    patch, atoms = np.asarray(patch), np.asarray(atoms)
    side = round(np.sqrt(patch.size))
    n = min(n_terms, atoms.shape[1])
    fig, axes = plt.subplots(1, n + 3, figsize=(1.25 * (n + 3), 1.9))
    lim = np.abs(patch).max()
    panels = [(patch, "patch I", lim)]
    panels += [(atoms[:, k], f"{weights[k]:+.2f} x", None) for k in range(n)]
    panels += [
        (
            atoms[:, n:] @ np.asarray(weights)[n:]
            if atoms.shape[1] > n
            else np.zeros_like(patch),
            "+ the rest",
            lim,
        ),
        (residual, "+ noise", lim),
    ]
    for ax, (img, label, m) in zip(axes, panels, strict=True):
        m = m or np.abs(img).max() or 1.0
        ax.imshow(np.reshape(img, (side, side)), cmap="gray", vmin=-m, vmax=m)
        ax.set_title(label, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        "a patch as a weighted sum of atoms: I = sum_i x_i A_i + noise",
        fontsize=10,
        y=1.02,
    )
    return axes


def plot_gabor_distributions(params, r2, usage, threshold: float):
    """Histograms of the Gabor fits (orientation, frequency, envelope, R^2) and of the
    atoms' usage (fraction of patches whose MAP code uses the atom)."""
    import matplotlib.pyplot as plt

    validation.as_float_array("r2", r2, ndim=1)

    p = np.asarray(params)
    orient = np.degrees(np.mod(p[:, 3], np.pi))
    env = np.sqrt(p[:, 6] * p[:, 7])
    good = np.asarray(r2) >= threshold
    _fig, axes = plt.subplots(1, 5, figsize=(11, 2.4), layout="constrained")
    data = [
        (orient, "orientation (degrees)"),
        (p[:, 4], "frequency (cycles/pixel)"),
        (env, "envelope width (pixels)"),
        (np.clip(r2, 0, 1), "Gabor fit R^2 (clipped at 0)"),
        (100 * np.asarray(usage), "usage (% of patches)"),
    ]
    for ax, (v, label) in zip(axes, data, strict=True):
        bins = np.histogram_bin_edges(v, 14)
        ax.hist(v, bins, color="0.75", label="all atoms")
        if not label.startswith(("usage", "Gabor")):
            ax.hist(v[good], bins, color="C0", label=f"R^2 >= {threshold:g}")
        ax.set_xlabel(label, fontsize=9)
        ax.tick_params(labelsize=8)
    axes[3].axvline(threshold, color="k", ls=":")
    axes[3].axvline(np.median(r2), color="C3", ls="--", label="median")
    axes[0].set_ylabel("atoms")
    axes[0].legend(fontsize=7)
    axes[3].legend(fontsize=7)
    return axes


def plot_energy_correlations(observed, shuffled, A, top_pairs):
    """Left: histograms of the pairs' energy correlations, observed and shuffled.
    Right: the atoms of the most correlated pairs, side by side."""
    import matplotlib.pyplot as plt

    validation.as_float_array("observed", observed, ndim=1)

    _fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=(9, 3), width_ratios=[1.3, 1], layout="constrained"
    )
    bins = np.linspace(min(shuffled.min(), observed.min()), observed.max(), 60)
    ax.hist(
        shuffled, bins, color="0.6", alpha=0.8, density=True, label="shuffled codes"
    )
    ax.hist(observed, bins, color="C0", alpha=0.6, density=True, label="inferred codes")
    ax.set_yscale("log")
    ax.set_xlabel("corr(|x_i|, |x_j|) over patches, per atom pair")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    A = np.asarray(A)
    side = round(np.sqrt(A.shape[0]))
    canvas = np.full((2 * (side + 1) + 1, len(top_pairs) * (side + 1) + 1), np.nan)
    for k, (i, j) in enumerate(top_pairs):
        for r, idx in enumerate((i, j)):
            t = A[:, idx].reshape(side, side)
            canvas[
                1 + r * (side + 1) : 1 + r * (side + 1) + side,
                1 + k * (side + 1) : 1 + k * (side + 1) + side,
            ] = t / np.abs(t).max()
    ax2.imshow(canvas, cmap="gray", vmin=-1, vmax=1)
    ax2.set_title("most correlated pairs (one per column)", fontsize=9)
    ax2.axis("off")
    return ax, ax2


def _lines(ax, series: dict, colors) -> None:
    """One line per replicate, one colour and one legend entry per label."""
    for (label, runs), c in zip(series.items(), colors, strict=False):
        for k, traj in enumerate(runs):
            ax.plot(
                np.arange(len(traj)),
                traj,
                "-",
                color=c,
                lw=1,
                label=label if k == 0 else None,
                alpha=0.8,
            )


def plot_prior_em(
    steps_alpha: dict,
    steps_gain: dict,
    check_eta,
    check_steps=None,
    *,
    tol: float | None = None,
    hmc=None,
):
    """Three panels along ``r <- q``. Left: the group shapes per replicate; middle: the
    log-likelihood gain per image of each step (label -> per-replicate arrays), with the
    criterion's tolerance ``tol``; right: the sampler check's eta on model data, rows
    ``(eta, se)`` at ``check_steps`` (default: every step), and HMC's,
    ``hmc = (steps, eta (n, 2))``, if given."""
    import matplotlib.pyplot as plt

    if not isinstance(steps_alpha, dict) or not isinstance(steps_gain, dict):
        raise TypeError("steps_alpha and steps_gain must be dicts (label -> arrays)")
    check_eta = np.asarray(check_eta, dtype=float)
    _fig, (ax, ax2, ax3) = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
    _lines(ax, steps_alpha, ["C0", "C1", "C2", "C3"])
    ax.set_xlabel("step of r <- q")
    ax.set_ylabel("shape alpha of the group")
    ax.legend(fontsize=8)
    _lines(ax2, steps_gain, ["C0", "C4"])
    if tol is not None:
        ax2.axhline(tol, color="k", ls="--", lw=1, label="tolerance")
    ax2.set_yscale("symlog", linthresh=0.01)
    ax2.set_ylim(bottom=-0.02)  # gains below -0.01 are rare: no room for them
    ax2.set_xlabel("M step")
    ax2.set_ylabel("log-likelihood gain (nats/image)")
    ax2.legend(fontsize=8)
    at = np.arange(len(check_eta)) if check_steps is None else check_steps
    ax3.errorbar(at, check_eta[:, 0], check_eta[:, 1], fmt="k.", ms=4, label="Gibbs")
    if hmc is not None:
        ax3.plot(hmc[0], hmc[1][:, 0], "x", color="C3", ms=5, label="HMC")
    ax3.axhline(0, color="0.6", lw=0.8)
    ax3.set_yscale("symlog", linthresh=1.0)
    ax3.set_ylim(bottom=-0.5)
    ax3.set_xlabel("step of r <- q (prior checked)")
    ax3.set_ylabel("eta on model data (nats)")
    ax3.legend(fontsize=8, loc="center right")
    return ax, ax2, ax3
