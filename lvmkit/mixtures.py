r"""Discrete latent-variable models that are exact by enumeration, and an amortised Q.

* :class:`CategoricalMixture`: a mixture of products of categoricals,
  :math:`P(l) = \sum_k \pi_k \prod_d \theta_{k d l_d}`, fit by EM. A flexible *flat*
  prior over a discrete layer: it knows nothing of where its dependencies come from.
* :class:`BinaryFactorModel`: the learner's model M. ``K`` binary latent features with a
  factorised Bernoulli prior ``r(z) = prod_k pi_k^{z_k} (1 - pi_k)^{1 - z_k}`` and pixels
  ``Im_p | z ~ Bernoulli(sigmoid(W_p . z + c_p))`` (a one-layer sigmoid belief net).
  With ``K <= 12`` the ``2^K`` latent states can be enumerated, so ``r(Im)``, the exact
  posterior ``q(z | Im)`` and every divergence below are exact.
* :class:`AmortisedEncoder`: the tractable inference Q actually used, a factorised
  ``Q(z | Im) = prod_k Bernoulli(sigmoid(V_k . Im + d_k))`` fit by logistic regression to
  the model's own samples (the sleep phase of the wake-sleep algorithm
  {cite}`hinton1995wakesleep`). Its gap to M is ``log r(Im) - ELBO = KL(Q || q)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logsumexp

from lvmkit import validation

__all__ = [
    "AmortisedEncoder",
    "BinaryFactorModel",
    "CategoricalMixture",
    "binary_configs",
]


def _check_binary(name: str, x, n_cols: int | None = None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or (n_cols is not None and x.shape[1] != n_cols):
        raise ValueError(f"{name} must have shape (n, {n_cols or 'P'}), got {x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError(f"{name} must be binary (0/1)")
    return x


def _check_count(name: str, n, low: int = 1, high: int | None = None) -> int:
    if isinstance(n, bool) or int(n) != n or n < low or (high is not None and n > high):
        raise ValueError(
            f"{name} must be an integer in [{low}, {high if high else 'inf'}), got {n}"
        )
    return int(n)


def binary_configs(k: int) -> np.ndarray:
    """All ``2^k`` binary vectors, shape ``(2^k, k)`` (float64), row ``i`` the bits of ``i``."""
    k = _check_count("k", k, 1, 20)
    return ((np.arange(2**k)[:, None] >> np.arange(k)[None]) & 1).astype(np.float64)


@dataclass(frozen=True)
class CategoricalMixture:
    """Mixture of products of categoricals over ``D`` sites with ``V`` values each.

    Args:
        weights: Mixing weights, shape ``(K,)``.
        probs: Component tables ``theta[k, d, v]``, shape ``(K, D, V)``, summing to one over v.
    """

    weights: np.ndarray
    probs: np.ndarray

    def __post_init__(self) -> None:
        w, p = np.asarray(self.weights, float), np.asarray(self.probs, float)
        if w.ndim != 1 or p.ndim != 3 or p.shape[0] != w.shape[0]:
            raise ValueError(
                f"weights (K,) and probs (K, D, V) expected, got {w.shape}, {p.shape}"
            )
        for name, v in (("weights", w), ("probs", p)):
            if (
                not np.all(np.isfinite(v))
                or np.any(v < 0)
                or not np.allclose(v.sum(-1), 1, atol=1e-6)
            ):
                raise ValueError(
                    f"{name} must be finite, non-negative and sum to 1 on the last axis"
                )
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "probs", p)

    @property
    def n_parameters(self) -> int:
        """Free parameters: ``K - 1 + K D (V - 1)``."""
        k, d, v = self.probs.shape
        return k - 1 + k * d * (v - 1)

    def _onehot(self, x) -> np.ndarray:
        x = np.asarray(x)
        _, d, v = self.probs.shape
        if (
            x.ndim != 2
            or x.shape[1] != d
            or np.any((x < 0) | (x >= v))
            or np.any(x != np.round(x))
        ):
            raise ValueError(
                f"x must be integers in [0, {v}) of shape (n, {d}), got shape {x.shape}"
            )
        return (
            (x.astype(int)[..., None] == np.arange(v))
            .reshape(len(x), d * v)
            .astype(np.float64)
        )

    def log_prob(self, x) -> np.ndarray:
        """``log P(x)`` for ``x`` of shape ``(n, D)``, shape ``(n,)``."""
        with np.errstate(divide="ignore"):
            logt = np.log(self.probs).reshape(len(self.weights), -1)
            logw = np.log(self.weights)
        oh = self._onehot(x)
        logt = np.where(np.isfinite(logt), logt, -1e300)  # 0 * log 0 = 0 in the matmul
        return logsumexp(oh @ logt.T + logw, axis=1)

    def sample(self, n: int, *, generator: np.random.Generator) -> np.ndarray:
        """Draw ``n`` vectors, shape ``(n, D)`` (int)."""
        rng = validation.as_numpy_generator("generator", generator)
        k = rng.choice(len(self.weights), size=_check_count("n", n), p=self.weights)
        u = rng.random((len(k), self.probs.shape[1], 1))
        return (u > np.cumsum(self.probs[k], -1)[..., :-1]).sum(-1)

    @classmethod
    def fit(
        cls,
        x,
        n_components: int,
        n_values: int,
        *,
        generator: np.random.Generator,
        n_iter: int = 100,
        pseudo_count: float = 0.1,
        tol: float = 1e-7,
    ) -> CategoricalMixture:
        """Maximum a posteriori EM from random responsibilities.

        Args:
            x: Data, integers in ``[0, n_values)``, shape ``(n, D)``.
            n_components: Number of components K.
            n_values: Number of values V of each site.
            generator: Seeds the initial responsibilities.
            n_iter: Maximum iterations.
            pseudo_count: Symmetric Dirichlet pseudo-count (> 0) on every table.
            tol: Stop when the mean log-likelihood improves by less than ``tol``.
        """
        rng = validation.as_numpy_generator("generator", generator)
        k = _check_count("n_components", n_components)
        v = _check_count("n_values", n_values, 2)
        if not pseudo_count > 0:
            raise ValueError(f"pseudo_count must be > 0, got {pseudo_count}")
        x = np.asarray(x)
        d = x.shape[1] if x.ndim == 2 else -1
        model = cls(np.full(k, 1 / k), np.full((k, max(d, 1), v), 1 / v))
        oh = model._onehot(x)
        resp = rng.dirichlet(np.ones(k), size=len(x))
        last = -np.inf
        for _ in range(n_iter):
            counts = resp.T @ oh + pseudo_count  # (K, D V)
            probs = counts.reshape(k, d, v)
            probs = probs / probs.sum(-1, keepdims=True)
            weights = (resp.sum(0) + pseudo_count) / (len(x) + k * pseudo_count)
            logj = oh @ np.log(probs).reshape(k, -1).T + np.log(weights)
            norm = logsumexp(logj, axis=1, keepdims=True)
            resp = np.exp(logj - norm)
            ll = norm.mean()
            if ll - last < tol:
                break
            last = ll
        return cls(weights, probs)


@dataclass(frozen=True)
class BinaryFactorModel:
    """The model M: binary latent features, factorised prior, sigmoid pixels.

    Args:
        prior_probs: ``pi_k = r(z_k = 1)``, shape ``(K,)``, each in (0, 1).
        weights: Feature matrix ``W``, shape ``(P, K)``; column ``k`` is feature ``k``'s
            effect on the pixel logits.
        bias: Pixel logit offsets ``c``, shape ``(P,)``.
    """

    prior_probs: np.ndarray
    weights: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        pi = np.asarray(self.prior_probs, float)
        w, c = np.asarray(self.weights, float), np.asarray(self.bias, float)
        if (
            pi.ndim != 1
            or w.ndim != 2
            or w.shape[1] != pi.shape[0]
            or c.shape != (w.shape[0],)
        ):
            raise ValueError(
                f"prior_probs (K,), weights (P, K), bias (P,) expected, got "
                f"{pi.shape}, {w.shape}, {c.shape}"
            )
        if not pi.shape[0] <= 14:
            raise ValueError(
                f"at most 14 latents (2^K states are enumerated), got {pi.shape[0]}"
            )
        if not np.all((pi > 0) & (pi < 1)):
            raise ValueError("prior_probs must lie strictly inside (0, 1)")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(c))):
            raise ValueError("weights and bias must be finite")
        for name, v in (("prior_probs", pi), ("weights", w), ("bias", c)):
            object.__setattr__(self, name, v)

    @property
    def n_latents(self) -> int:
        return self.prior_probs.shape[0]

    @property
    def n_pixels(self) -> int:
        return self.weights.shape[0]

    def states(self) -> np.ndarray:
        """All ``2^K`` latent states, shape ``(2^K, K)``."""
        return binary_configs(self.n_latents)

    def log_prior_states(self) -> np.ndarray:
        """``log r(z)`` of every state, shape ``(2^K,)``."""
        z = self.states()
        return z @ np.log(self.prior_probs) + (1 - z) @ np.log1p(-self.prior_probs)

    def log_likelihood_states(self, images) -> np.ndarray:
        """``log p(Im | z)`` for every image and state, shape ``(n, 2^K)``."""
        x = _check_binary("images", images, self.n_pixels)
        a = self.states() @ self.weights.T + self.bias  # (2^K, P)
        return x @ log_expit(a).T + (1 - x) @ log_expit(-a).T

    def log_joint_states(self, images) -> np.ndarray:
        """``log r(z) p(Im | z)``, shape ``(n, 2^K)``."""
        return self.log_likelihood_states(images) + self.log_prior_states()

    def log_marginal(self, images) -> np.ndarray:
        """Exact ``log r(Im)``, shape ``(n,)``."""
        return logsumexp(self.log_joint_states(images), axis=1)

    def posterior(self, images) -> np.ndarray:
        """Exact posterior ``q(z | Im)`` over the ``2^K`` states, shape ``(n, 2^K)``."""
        lj = self.log_joint_states(images)
        return np.exp(lj - logsumexp(lj, axis=1, keepdims=True))

    def posterior_means(self, images) -> np.ndarray:
        """``E[z | Im]``, shape ``(n, K)``."""
        return self.posterior(images) @ self.states()

    def sample(
        self, n: int, *, generator: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(z, images)`` from ``r(z) p(Im | z)``, shapes ``(n, K)`` and ``(n, P)``."""
        rng = validation.as_numpy_generator("generator", generator)
        n = _check_count("n", n)
        z = (rng.random((n, self.n_latents)) < self.prior_probs).astype(np.float64)
        x = (
            rng.random((n, self.n_pixels)) < expit(z @ self.weights.T + self.bias)
        ).astype(np.float64)
        return z, x

    @classmethod
    def fit(
        cls,
        images,
        n_latents: int,
        *,
        generator: np.random.Generator,
        n_iter: int = 60,
        l2: float = 1.0,
        newton_steps: int = 2,
    ) -> tuple[BinaryFactorModel, np.ndarray]:
        """Generalised EM with an exact E-step (enumeration) and Newton M-steps.

        The M-step for ``(W, c)`` is a weighted logistic regression per pixel on the
        ``2^K`` states, with weights the summed posteriors; ``l2`` is a Gaussian penalty
        on ``W`` (MAP), which keeps the logits finite for pixels that never turn on.

        Args:
            images: Binary training images, shape ``(n, P)``.
            n_latents: K (at most 12 here, for speed).
            generator: Seeds the initial weights.
            n_iter: EM iterations.
            l2: Penalty ``l2/2 ||W||^2`` (> 0).
            newton_steps: Newton steps per M-step.

        Returns:
            ``(model, trace)``: the fitted model and the mean training log-likelihood
            after each iteration, shape ``(n_iter,)``.
        """
        rng = validation.as_numpy_generator("generator", generator)
        x = _check_binary("images", images)
        k = _check_count("n_latents", n_latents, 1, 12)
        if not l2 > 0:
            raise ValueError(f"l2 must be > 0, got {l2}")
        p_on = (x.mean(0) * len(x) + 0.5) / (len(x) + 1)
        model = cls(
            np.full(k, 0.3),
            0.5 * rng.standard_normal((x.shape[1], k)),
            np.log(p_on / (1 - p_on)),
        )
        design = np.column_stack([model.states(), np.ones(2**k)])  # (2^K, K + 1)
        outer = (design[:, :, None] * design[:, None, :]).reshape(
            2**k, -1
        )  # (2^K, (K+1)^2)
        penalty = l2 * np.diag(np.r_[np.ones(k), 0.0])
        trace = np.empty(n_iter)
        for it in range(n_iter):
            lj = model.log_joint_states(x)
            norm = logsumexp(lj, axis=1, keepdims=True)
            trace[it] = norm.mean()
            resp = np.exp(lj - norm)  # (n, 2^K)
            mass, on = resp.sum(0), resp.T @ x  # (2^K,), (2^K, P)
            pi = np.clip((resp @ model.states()).mean(0), 1e-4, 1 - 1e-4)
            theta = np.vstack([model.weights.T, model.bias])  # (K + 1, P)
            for _ in range(newton_steps):
                s = expit(design @ theta)  # (2^K, P)
                grad = design.T @ (on - mass[:, None] * s) - penalty @ theta
                hess = (outer.T @ (mass[:, None] * s * (1 - s))).T.reshape(
                    -1, k + 1, k + 1
                ) + penalty
                theta = theta + np.linalg.solve(hess, grad.T[..., None])[..., 0].T
            model = cls(pi, theta[:k].T.copy(), theta[k].copy())
        return model, trace


@dataclass(frozen=True)
class AmortisedEncoder:
    """Q: a factorised recognition model ``Q(z_k = 1 | Im) = sigmoid(V_k . Im + d_k)``.

    Args:
        weights: ``V``, shape ``(K, P)``.
        bias: ``d``, shape ``(K,)``.
    """

    weights: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        v, d = np.asarray(self.weights, float), np.asarray(self.bias, float)
        if v.ndim != 2 or d.shape != (v.shape[0],):
            raise ValueError(
                f"weights (K, P) and bias (K,) expected, got {v.shape}, {d.shape}"
            )
        if not (np.all(np.isfinite(v)) and np.all(np.isfinite(d))):
            raise ValueError("weights and bias must be finite")
        object.__setattr__(self, "weights", v)
        object.__setattr__(self, "bias", d)

    def probs(self, images) -> np.ndarray:
        """``Q(z_k = 1 | Im)``, shape ``(n, K)``."""
        return expit(
            _check_binary("images", images, self.weights.shape[1]) @ self.weights.T
            + self.bias
        )

    def log_q_states(self, images) -> np.ndarray:
        """``log Q(z | Im)`` for every state, shape ``(n, 2^K)``."""
        a = (
            _check_binary("images", images, self.weights.shape[1]) @ self.weights.T
            + self.bias
        )
        z = binary_configs(self.weights.shape[0])
        return log_expit(a) @ z.T + log_expit(-a) @ (1 - z).T

    def elbo(self, model: BinaryFactorModel, images) -> np.ndarray:
        """Exact ``ELBO = E_Q[log r(z) p(Im | z) - log Q(z | Im)]``, shape ``(n,)``."""
        logq = self.log_q_states(images)
        lj = model.log_joint_states(images)
        return np.sum(np.exp(logq) * (lj - logq), axis=1)

    @classmethod
    def fit_sleep(
        cls,
        model: BinaryFactorModel,
        n: int,
        *,
        generator: np.random.Generator,
        C: float = 1.0,
    ) -> AmortisedEncoder:
        """Fit Q to M's own samples ``(z, Im) ~ r(z) p(Im | z)`` (the sleep phase).

        One L2-regularised logistic regression per latent (scikit-learn), inverse
        regularisation strength ``C``.
        """
        from sklearn.linear_model import LogisticRegression

        z, x = model.sample(n, generator=generator)
        v, d = np.zeros((model.n_latents, model.n_pixels)), np.zeros(model.n_latents)
        for k in range(model.n_latents):
            if z[:, k].min() == z[:, k].max():  # one class only: a constant Q
                m = np.clip(z[:, k].mean(), 1e-4, 1 - 1e-4)
                d[k] = np.log(m / (1 - m))
                continue
            clf = LogisticRegression(C=C, max_iter=1000).fit(x, z[:, k])
            v[k], d[k] = clf.coef_[0], clf.intercept_[0]
        return cls(v, d)
