"""Run r <- q (Monte-Carlo EM for the prior) to convergence and write data/prior_em.npz.

Run from the repository root:  .venv/bin/python scripts/make_prior_em.py   (~60 minutes)

Model: the cached sparse-coding dictionary (data/dictionary.npz), A and sigma fixed.
Data: five replicates, each 300 whitened 12 x 12 patches (natural_patches, seeds 10-14).
Prior: factorised generalised Gaussian, one scale per latent and one shape per group of
latents; the 4 groups are the quartiles of the latents' mean |MAP code| on the patches
of replicate 0 (latents of similar scale share a shape).
Two families, both started from the dictionary's Laplace prior (alpha = 1, s = sigma^2 /
lambda): the Gaussian family (alpha = 2, per-latent scales, exact Gaussian posterior
sampling) and the generalised Gaussian family (shapes free, Metropolis-within-Gibbs,
lvmkit.mcmc.gibbs: 100 warm-up sweeps, 10 draws thinned by 2, each chain restarted from
the last draw of the previous step).
Criterion (lvmkit.prior_em.run_prior_em): for 3 consecutive M steps the upper 95 % bound
of the log marginal likelihood gain per image (importance sampling on the next E step's
draws, lvmkit.prior_em.likelihood_gain) is below TOL nats. Every run goes on to
MAX_ITER M steps after that (run_on) to show what the criterion stopped; the step at
which it first held is stored as {family}_{k}_converged_at.
Sampler check at every prior replicate 0 visits: 300 images drawn from the model with
that prior, the same sampler started afresh at a draw of the Gaussian approximation with
CHECK_WARMUP warm-up iterations, and eta of their average posterior against the prior
(Bayes' loop on model data: ~0 when the sampler is right); the same check for HMC
(lvmkit.mcmc.hmc, same warm-up, 10 draws thinned by 2) at HMC_STEPS, where it fails at
alpha < 1. At alpha = 2 both samplers' draws are also compared with the exact Gaussian
posterior.

Single-threaded and seeded: repeatable on one machine. tests/test_prior_em.py re-runs
the first step of replicate 0 and checks it against the stored trajectory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from lvmkit.artifacts import load_npz
from lvmkit.diagnostics import run_average_posterior
from lvmkit.lasso import lasso
from lvmkit.patches import natural_patches
from lvmkit.prior_em import gg_prior, posterior_sampler, run_prior_em

OUT = Path(__file__).resolve().parents[1] / "data" / "prior_em.npz"
N_PATCHES, SEEDS, N_GROUPS, MAX_ITER, TOL, PATIENCE = (
    300,
    (10, 11, 12, 13, 14),
    4,
    60,
    0.1,  # TOL: nats per image, i.e. 30 nats over the 300 patches
    3,
)
SAMPLER = {"n_samples": 10, "n_warmup": 100, "thin": 2}
CHECK_WARMUP = 400


def check_steps(n_priors: int) -> tuple[list[int], list[int]]:
    """The visited priors checked with the Gibbs sampler and with HMC."""
    gibbs = list(range(n_priors))
    hmc = sorted({0, 1, 2, *range(10, n_priors, 10)} & set(range(n_priors)))
    return gibbs, hmc


def setup():
    """Dictionary, noise, starting scale and the latent groups."""
    fit = load_npz("dictionary.npz")
    A = torch.from_numpy(fit["A"])
    sigma, s0 = float(fit["noise_std"]), float(fit["prior_scale"])
    images = natural_patches(N_PATCHES, 12, seed=SEEDS[0]).patches.double()
    usage = lasso(images, A, sigma**2 / s0).x.abs().mean(0).numpy()
    groups = np.searchsorted(np.quantile(usage, [0.25, 0.5, 0.75]), usage)
    return A, sigma, s0, groups


def run_replicate(
    k: int, A, sigma, s0, groups, family: str, max_iter: int | None = None
):
    images = natural_patches(N_PATCHES, 12, seed=SEEDS[k]).patches.double()
    g = torch.Generator().manual_seed(1000 * k + (family == "gg"))
    sample = posterior_sampler(A, sigma, generator=g, **SAMPLER)
    a0 = 2.0 if family == "gauss" else 1.0
    scale0 = s0 * np.sqrt(2.0) if family == "gauss" else s0  # equal variance
    return run_prior_em(
        sample,
        images,
        a0,
        scale0,
        groups=groups,
        fit_shape=family == "gg",
        max_iter=max_iter or MAX_ITER,
        tol=TOL,
        patience=PATIENCE,
        run_on=True,
    )


def model_data_check(
    A, sigma, alpha, scale, seed: int, exact: bool = False, method: str = "gibbs"
):
    """eta on images drawn from the model itself (the sampler's check)."""
    g = torch.Generator().manual_seed(seed)
    prior = gg_prior(alpha, scale)
    x = prior.base_dist.sample((N_PATCHES,), generator=g).double()
    images = x @ A.T + sigma * torch.randn(
        N_PATCHES, A.shape[0], generator=g, dtype=A.dtype
    )
    sample = posterior_sampler(
        A,
        sigma,
        generator=g,
        exact_gaussian=exact,
        method=method,
        **{**SAMPLER, "n_warmup": CHECK_WARMUP},
    )
    draws = sample(alpha, scale, images)
    loop = run_average_posterior(draws, prior, n_boot=50)
    return loop.eta, loop.stderr, draws, images


def gaussian_check(A, sigma, scale, seed: int, method: str = "gibbs"):
    """A sampler against the exact Gaussian posterior at alpha = 2: z-scores of the
    posterior means, and the mean ratio of the posterior variances."""
    _, _, hmc_draws, images = model_data_check(
        A, sigma, 2.0, scale, seed, exact=False, method=method
    )
    var = scale**2 / 2
    prec = A.T @ A / sigma**2 + torch.diag(torch.as_tensor(1 / var))
    cov = torch.linalg.inv(prec)
    mean = images @ A / sigma**2 @ cov
    sd = torch.sqrt(torch.diagonal(cov))
    z_mean = ((hmc_draws.mean(0) - mean) / (sd / np.sqrt(hmc_draws.shape[0]))).numpy()
    var_ratio = (hmc_draws.var(0, unbiased=True) / sd**2).mean().item()
    return z_mean, var_ratio


def _job(args):
    torch.set_num_threads(1)
    kind, k = args
    A, sigma, s0, groups = setup()
    r = run_replicate(k, A, sigma, s0, groups, kind)
    print(
        f"{kind} replicate {k}: {len(r.gain)} steps, converged at {r.converged_at}, eta "
        f"{r.eta[-1]:.3g} +- {r.eta_se[-1]:.2g}",
        file=sys.stderr,
        flush=True,
    )
    return r


def _check_job(args):
    torch.set_num_threads(1)
    method, t, alpha, scale = args
    A, sigma, _, _ = setup()
    eta = model_data_check(A, sigma, alpha, scale, 500 + t, method=method)[:2]
    print(
        f"check {method} at step {t}: eta {eta[0]:.3g} +- {eta[1]:.2g}", file=sys.stderr
    )
    return eta


def main() -> None:
    from multiprocessing import get_context

    torch.set_num_threads(1)
    A, sigma, _, groups = setup()
    out = {
        "groups": groups,
        "seeds": np.array(SEEDS),
        "n_patches": N_PATCHES,
        "tol": TOL,
        "patience": PATIENCE,
        "max_iter": MAX_ITER,
    }
    jobs = [(family, k) for family in ("gg", "gauss") for k in range(len(SEEDS))]
    with get_context("fork").Pool(2) as pool:  # two processes, one thread each
        for (family, k), r in zip(jobs, pool.map(_job, jobs, chunksize=1), strict=True):
            for name in ("alpha", "scale", "eta", "eta_se", "gain", "gain_se"):
                out[f"{family}_{k}_{name}"] = getattr(r, name)
            out[f"{family}_{k}_converged"] = r.converged
            out[f"{family}_{k}_converged_at"] = r.converged_at
    alphas, scales = out["gg_0_alpha"], out["gg_0_scale"]
    checks = [
        (method, t, alphas[t], scales[t])
        for method, steps in zip(
            ("gibbs", "hmc"), check_steps(len(alphas)), strict=True
        )
        for t in steps
    ]
    with get_context("fork").Pool(2) as pool:
        results = pool.map(_check_job, checks, chunksize=1)
    for method, key in (("gibbs", ""), ("hmc", "_hmc")):
        done = [
            (c[1], r) for c, r in zip(checks, results, strict=True) if c[0] == method
        ]
        out[f"check_eta{key}"] = np.array([r for _, r in done])
        out[f"check_steps{key}"] = np.array([t for t, _ in done])
        z, vr = gaussian_check(A, sigma, out["gauss_0_scale"][-1], 999, method)
        out[f"gauss_check_z{key}"], out[f"gauss_check_var_ratio{key}"] = z, vr
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
