"""The part-3 score table: every number the part-3 chapters print about a model.

Book-only: one flat row of scores per model, which the chapters put side by side in
a DataFrame. The estimators it combines are general (:mod:`lvmkit.vae`,
:mod:`lvmkit.probes`).
"""

from __future__ import annotations

import numpy as np
import torch

from lvmkit import validation
from lvmkit.probes import aggregate_posterior_stats, knn_accuracy, linear_probe_accuracy
from lvmkit.vae import elbo_terms, iw_log_likelihood

__all__ = ["evaluate"]


@torch.no_grad()
def evaluate(
    model,
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    n_iw: int = 100,
    n_mi_samples: int = 10,
    generator: torch.Generator,
) -> dict[str, float]:
    """Every part-3 number of a latent model (nats per image), as a flat dict.

    Keys: ``test_ll`` and ``train_ll`` (importance-weighted, ``n_iw`` samples; the train
    value on the first ``len(x_test)`` training images), ``gap`` (train - test),
    ``elbo``, ``rate``, ``distortion`` (test, 1 sample), ``mi`` and ``kl_agg``
    (:func:`aggregate_posterior_stats` on the test set), ``linear_probe`` and ``knn``
    (one posterior sample ``z ~ q(z | x)`` per image, the code the model actually
    transmits, training set -> held-out labels; the majority-class rate when the model has
    no latents). A posterior *mean* would let a standardised probe read tiny shifts of the
    mean that carry almost no information when the posteriors are as broad as the prior.
    """
    x_train = validation.as_data_batch("x_train", x_train)
    x_test = validation.as_data_batch("x_test", x_test, x_train.shape[1])
    validation.check_int("n_iw", n_iw, 1)
    validation.check_int("n_mi_samples", n_mi_samples, 1)
    n = len(x_test)
    out = {
        "test_ll": float(
            iw_log_likelihood(model, x_test, n_iw, generator=generator).mean()
        ),
        "train_ll": float(
            iw_log_likelihood(model, x_train[:n], n_iw, generator=generator).mean()
        ),
    }
    out["gap"] = out["train_ll"] - out["test_ll"]
    if model.n_latents == 0:
        ll = out["test_ll"]
        chance = float(np.bincount(np.asarray(y_test)).max() / n)
        out.update(
            elbo=ll,
            rate=0.0,
            distortion=-ll,
            mi=0.0,
            kl_agg=0.0,
            linear_probe=chance,
            knn=chance,
        )
        return out
    t = elbo_terms(model, x_test, 1, generator=generator)
    out.update(
        elbo=float(t.elbo.mean()),
        rate=float(t.rate.mean()),
        distortion=float(t.distortion.mean()),
    )
    st = aggregate_posterior_stats(model, x_test, n_mi_samples, generator=generator)
    out.update(mi=st.mutual_information, kl_agg=st.kl_aggregate_prior)
    z_tr = model.sample_posterior(x_train, 1, generator=generator)[0][0]
    z_te = model.sample_posterior(x_test, 1, generator=generator)[0][0]
    out.update(
        linear_probe=linear_probe_accuracy(z_tr, y_train, z_te, y_test),
        knn=knn_accuracy(z_tr, y_train, z_te, y_test),
    )
    return out
