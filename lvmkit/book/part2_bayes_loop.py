"""Book-only pieces of the chapter *Bayes' loop* (part 2): one replicate of the
measurements after the maximum-likelihood fit, and its figures.

pyplot is imported inside the figure functions only.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.distributions import Independent, Laplace

from lvmkit import sparse_em as em
from lvmkit import validation
from lvmkit.diagnostics import run_average_posterior, run_mmd
from lvmkit.patches import natural_patches

__all__ = [
    "BANDWIDTH",
    "laplace_prior",
    "plot_em_path",
    "plot_energy_corr",
    "plot_eps_eta",
    "plot_loop",
    "replicate",
    "sample_laplace",
]

BANDWIDTH = (
    17.0  # kernel width of every MMD: ~ the median distance of unit-variance patches
)
S, WARMUP, THIN = 10, 150, 3


def laplace_prior(scales: torch.Tensor) -> Independent:
    """``prod_i Laplace(0, s_i)``, event shape ``(N,)``."""
    scales = validation.as_float_tensor("scales", scales, ndim=1)
    if not bool((scales > 0).all()):
        raise ValueError("scales must be positive")
    return Independent(Laplace(torch.zeros_like(scales), scales), 1)


def sample_laplace(
    scales: torch.Tensor, n: int, generator: torch.Generator
) -> torch.Tensor:
    """``n`` draws of ``prod_i Laplace(0, s_i)`` from ``generator``, shape ``(n, N)``."""
    validation.check_int("n", n, 1)
    validation.check_generator("generator", generator, required=True)
    u = torch.rand(n, len(scales), generator=generator, dtype=torch.float64)
    sign = torch.where(
        torch.rand(n, len(scales), generator=generator, dtype=torch.float64) < 0.5,
        -1.0,
        1.0,
    )
    return sign * scales * -torch.log1p(-u)


def _images(A, x, sigma, g):
    return x @ A.T + sigma * torch.randn(len(x), A.shape[0], generator=g, dtype=A.dtype)


def _mmd(x, y) -> float:
    return run_mmd(x, y, n_perm=1, bandwidth=BANDWIDTH).mmd2


def _bonus1(d_ml, patches, heldout, A, s_ml, sigma, k, g) -> dict:
    """Bonus 1: MMD^2 to held-out patches of images generated from densities fitted to
    the pooled draws of q(x), from r(x), and from one posterior draw per patch."""
    from sklearn.mixture import GaussianMixture

    B = len(patches)
    out: dict = {}
    pool = d_ml.reshape(-1, d_ml.shape[-1])
    pick = torch.randint(0, len(pool), (B, pool.shape[1]), generator=g)
    x_fact = pool[pick, torch.arange(pool.shape[1])]
    gmm = GaussianMixture(8, covariance_type="full", reg_covar=1e-4, random_state=k)
    gmm.fit(pool.numpy())
    x_gmm = torch.from_numpy(gmm.sample(B)[0][np.random.default_rng(k).permutation(B)])
    gens = {
        "r": sample_laplace(s_ml, B, g),
        "q_factorised": x_fact,
        "q_gmm": x_gmm,
        "one_draw_per_patch": d_ml[0],
    }
    for name, x in gens.items():
        out[f"gen_{name}"] = _mmd(_images(A, x, sigma, g), heldout)
    out["gen_null"] = _mmd(patches, heldout)
    return out


def replicate(A, s_heur, s_ml, sigma, k, B, ts) -> dict:
    """All measurements of one replicate ``k`` (fresh patches, images and chains).

    Returns a dict of arrays: ``eta_*`` and ``eta_*_se`` (nats), ``ecorr_*`` (mean energy
    correlation over pairs) and ``corr_*`` (the matrices), ``eps``/``eta_t`` along
    ``ts``, ``eps_null``, and the Bonus-1 MMD^2 values ``gen_*``.
    """
    validation.check_int("B", B, 2)
    g = torch.Generator().manual_seed(100 + k)
    patches = natural_patches(B, 12, seed=20 + k).patches
    heldout = natural_patches(B, 12, seed=40 + k).patches
    ref = _images(A, sample_laplace(s_ml, B, g), sigma, g)
    other = _images(A, sample_laplace(s_ml, B, g), sigma, g)
    out: dict = {}

    def draws(images, scales):
        return em.laplace_e_step(
            images,
            A,
            scales,
            sigma,
            n_samples=S,
            n_warmup=WARMUP,
            thin=THIN,
            generator=g,
        )

    def eta(d, scales, name):
        res = run_average_posterior(d, laplace_prior(scales))
        out[f"eta_{name}"], out[f"eta_{name}_se"] = res.eta, res.stderr

    d_heur = draws(patches, s_heur)
    eta(d_heur, s_heur, "heur")
    eta(d_heur, d_heur.abs().mean((0, 1)), "heur_rescaled")
    out["mean_abs_heur"] = float(d_heur.abs().mean())
    eps, eta_t, by_t = [], [], {}
    for t in ts:
        m = round(t * B)
        mix = torch.cat([patches[:m], other[m:]])
        d = draws(mix, s_ml)
        by_t[t] = d
        eps.append(_mmd(ref, mix))
        eta_t.append(run_average_posterior(d, laplace_prior(s_ml)).eta)
    out["eps"], out["eta_t"] = np.array(eps), np.array(eta_t)
    out["eps_null"] = _mmd(ref, _images(A, sample_laplace(s_ml, B, g), sigma, g))
    d_ml, d_model = by_t[ts[-1]], by_t[ts[0]]
    eta(d_ml, s_ml, "ml")
    eta(d_ml, d_ml.abs().mean((0, 1)), "ml_rescaled")
    eta(d_model, s_ml, "model")
    out["mean_abs_ml"] = float(d_ml.abs().mean())
    for name, d in (("data", d_ml), ("model", d_model)):
        c, boot = em.energy_correlation(d, n_boot=100, seed=k)
        iu = torch.triu_indices(c.shape[0], c.shape[0], 1)
        out[f"ecorr_{name}"] = float(c[iu[0], iu[1]].mean())
        out[f"ecorr_{name}_se"] = float(boot.std(ddof=1))
        out[f"corr_{name}"] = c.numpy()
    out.update(_bonus1(d_ml, patches, heldout, A, s_ml, sigma, k, g))
    return {key: np.asarray(v) for key, v in out.items()}


def plot_loop(
    x, image, post, avg_post, prior_draws, *, size: int = 12, lim: float = 2.0
):
    """The loop of the post from one computed example, four panels left to right:
    a latent vector drawn from the prior, the image it makes, posterior draws for that
    image against the true latents, and the average posterior against the prior.

    Args:
        x: ``(N,)`` latents. image: ``(P,)``. post: ``(S, N)`` posterior draws of it.
        avg_post: pooled posterior draws over many model images (flattened).
        prior_draws: prior draws (flattened). size: patch side. lim: latent axis range.
    """
    validation.as_float_array("x", x)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 4, figsize=(10.5, 2.9), width_ratios=[1.3, 0.8, 1.3, 1.1])
    order = torch.argsort(x.abs(), descending=True)[:12]
    ax[0].bar(range(len(order)), x[order].numpy(), color="C0")
    ax[0].set(title="1. latents x ~ r(x)", xlabel="12 largest latents", ylabel="x_i")
    v = float(image.abs().max())
    ax[1].imshow(image.reshape(size, size).numpy(), cmap="gray", vmin=-v, vmax=v)
    ax[1].set(title="2. generate: I = Ax + noise", xticks=[], yticks=[])
    for s in range(post.shape[0]):
        ax[2].plot(
            range(len(order)), post[s, order].numpy(), ".", color="C1", alpha=0.4
        )
    ax[2].plot(
        range(len(order)),
        x[order].numpy(),
        "_",
        color="C0",
        ms=14,
        mew=2,
        label="true x",
    )
    ax[2].set(title="3. infer: draws of q(x | I)", xlabel="the same latents")
    ax[2].legend(loc="upper right", fontsize=8)
    bins = np.linspace(-lim, lim, 61)
    ax[3].hist(
        prior_draws.numpy(),
        bins,
        density=True,
        histtype="step",
        lw=2,
        color="C0",
        label="prior r(x)",
    )
    ax[3].hist(
        avg_post.numpy(),
        bins,
        density=True,
        histtype="step",
        lw=1.5,
        color="C1",
        label="average q(x)",
    )
    ax[3].set(title="4. average: back to r(x)", xlabel="x_i", yscale="log")
    ax[3].legend(loc="lower center", fontsize=8)
    return fig


def _label_t(ax, xs, ys, ts) -> None:
    """Write ``t = ...`` beside each point of a curve along the mixing proportion."""
    for x, y, t in zip(xs, ys, ts, strict=True):
        ax.annotate(
            f"t = {t:g}",
            (x, y),
            textcoords="offset points",
            xytext=(6, -12),
            fontsize=8,
        )


def plot_eps_eta(eps, eps_se, eta, eta_se, ts, eps_null, eps_null_se):
    """The epsilon-eta curve: eta against epsilon (MMD^2) along the mixing proportion t,
    with standard errors over replicates and the null band of epsilon."""
    validation.as_float_array("eps", eps, ndim=1)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    k = 1e3  # MMD^2 in units of 1e-3
    eps, eps_se = np.asarray(eps) * k, np.asarray(eps_se) * k
    eps_null, eps_null_se = eps_null * k, eps_null_se * k
    ax.axvspan(
        eps_null - 2 * eps_null_se,
        eps_null + 2 * eps_null_se,
        color="0.85",
        label="null: model vs model (± 2 se)",
    )
    ax.errorbar(
        eps,
        eta,
        xerr=eps_se,
        yerr=eta_se,
        fmt="o-",
        color="C3",
        capsize=3,
        label="mix of model images and patches",
    )
    _label_t(ax, eps, eta, ts)
    ax.set(xlabel="epsilon: MMD$^2$(model images, mix) × 1000", ylabel="eta (nats)")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_em_path(scales_path, joint_noise_path, tol, change):
    """Monte-Carlo EM: the prior scales per iteration (median and 10-90 % band over the
    latents), the convergence criterion against its tolerance, and the noise of a joint
    run."""
    validation.as_float_array("scales_path", scales_path, ndim=2)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(10.5, 3.0))
    it = np.arange(len(scales_path))
    q = np.quantile(scales_path, [0.1, 0.5, 0.9], axis=1)
    ax[0].fill_between(
        it, q[0], q[2], color="C0", alpha=0.3, label="10-90 % of latents"
    )
    ax[0].plot(it, q[1], "o-", color="C0", ms=3, label="median")
    ax[0].set(
        xlabel="EM iteration",
        ylabel="prior scale s_i",
        yscale="log",
        title="prior scales (sigma fixed)",
    )
    ax[0].legend(fontsize=8)
    ax[1].semilogy(np.arange(1, len(change) + 1), change, "o-", color="C1", ms=3)
    ax[1].axhline(tol, color="0.4", ls="--", label="tolerance")
    ax[1].set(
        xlabel="EM iteration",
        ylabel="max |d log sigma|, |d mean log s|",
        title="stopping criterion",
    )
    ax[1].legend(fontsize=8)
    ax[2].semilogy(
        np.arange(len(joint_noise_path)), joint_noise_path, "o-", color="C2", ms=3
    )
    ax[2].set(xlabel="EM iteration", ylabel="noise sigma", title="joint fit of sigma")
    return fig


def plot_energy_corr(corr_data, corr_model):
    """Energy correlations ``corr(|x_i|, |x_j|)`` under the average posterior, all pairs:
    histograms for natural patches and for the model's own images."""
    validation.as_float_array("corr_data", corr_data)
    import matplotlib.pyplot as plt

    iu = np.triu_indices(corr_data.shape[0], 1)
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    bins = np.linspace(-0.1, max(0.3, float(corr_data[iu].max())), 60)
    ax.hist(corr_model[iu], bins, color="C0", alpha=0.6, label="model images")
    ax.hist(corr_data[iu], bins, color="C3", alpha=0.6, label="natural patches")
    ax.axvline(0, color="0.3", lw=1)
    ax.set(
        xlabel="corr(|x_i|, |x_j|) under q(x), one per atom pair",
        ylabel="atom pairs",
        yscale="log",
    )
    ax.legend(fontsize=8)
    return fig
