"""Book-only code of chapters/part3/structure.ipynb: the metrics every cached shapes
model stores (scripts/make_part3_shapes.py) and the loader of that cache."""

from __future__ import annotations

import numpy as np
import torch

from lvmkit import validation
from lvmkit.aggregate_posterior import aggregate_stats
from lvmkit.book.score_table import evaluate
from lvmkit.datasets import load_shapes_split
from lvmkit.probes import factor_r2
from lvmkit.structured_decoders import build_structured_vae
from lvmkit.two_sample import classifier_two_sample_test
from lvmkit.vae import iw_log_likelihood

__all__ = [
    "CACHE",
    "KINDS",
    "criteria_table",
    "load_shapes_model",
    "model_metrics",
    "plot_data_size_sweep",
    "shapes_records",
    "t_bound",
    "template_correlations",
    "values",
]

CACHE = "part3_shapes_seeds"
MIXTURES = (5000, 21000)  # aggregate-posterior mixture sizes beyond the test set's 1000


@torch.no_grad()
def model_metrics(vae, n_train: int, *, k_large: int = 0) -> dict:
    """Every number the chapter uses for one model, with fixed generators.

    ``evaluate`` on (its own training images, the test set) with K = 50; held-out R^2
    of x, y, scale from one posterior sample; MI and KL(q(z) || p(z)) with the
    aggregate over 1000 (test), 5000 and all 21 000 images (queried at the test set);
    a kNN classifier two-sample test of 1000 samples against the 1000 test images;
    with ``k_large > 0`` also the test log-likelihood at K = ``k_large``.
    """
    validation.check_int("n_train", n_train, 1)
    split, f_train, f_test = load_shapes_split()
    x_tr, y_tr = split.x_train[:n_train], split.y_train[:n_train]
    m = evaluate(
        vae,
        x_tr,
        y_tr,
        split.x_test,
        split.y_test,
        n_iw=50,
        n_mi_samples=5,
        generator=torch.Generator().manual_seed(0),
    )
    if vae.n_latents:
        g = torch.Generator().manual_seed(1)
        n_r2 = min(n_train, 5000)
        z_tr = vae.sample_posterior(split.x_train[:n_r2], 1, generator=g)[0][0]
        z_te = vae.sample_posterior(split.x_test, 1, generator=g)[0][0]
        r2 = factor_r2(z_tr, f_train[:n_r2, 1:], z_te, f_test[:, 1:])
        m.update(r2_x=float(r2[0]), r2_y=float(r2[1]), r2_scale=float(r2[2]))
        for n_mix in MIXTURES:
            x_mix = torch.cat(
                [split.x_test, split.x_train[: n_mix - len(split.x_test)]]
            )
            st = aggregate_stats(
                vae, x_mix, split.x_test, 2, generator=torch.Generator().manual_seed(2)
            )
            m[f"mi_{n_mix}"], m[f"kl_{n_mix}"] = (
                st.mutual_information,
                st.kl_aggregate_prior,
            )
            m[f"rate_{n_mix}"] = st.rate
    if k_large and vae.n_latents:
        m[f"test_ll_k{k_large}"] = float(
            iw_log_likelihood(
                vae, split.x_test, k_large, generator=torch.Generator().manual_seed(4)
            ).mean()
        )
    samples = vae.sample(1000, generator=torch.Generator().manual_seed(3))
    m["c2st"] = classifier_two_sample_test(samples, split.x_test).accuracy
    return m


def shapes_records(directory=None) -> dict:
    """The JSON records of every cached model (config, metrics, training bookkeeping)."""
    from lvmkit.artifacts import load_json

    return load_json(f"{CACHE}.json", directory)


def load_shapes_model(name: str, *, directory=None):
    """``(vae, record)`` of a model of ``data/part3_shapes_seeds.{pt,json}`` (float32,
    eval mode), hash-checked through :mod:`lvmkit.artifacts`."""
    from lvmkit.artifacts import load_weights

    records = shapes_records(directory)
    if name not in records:
        raise ValueError(f"name must be a model of {CACHE}.json, got {name!r}")
    cfg = records[name]["config"]
    vae = build_structured_vae(
        cfg["decoder"], cfg["n_pixels"], cfg["n_latents"], prior=cfg["prior"]
    )
    vae.load_state_dict(load_weights(f"{CACHE}.pt", directory)[name])
    return vae.float().eval(), records[name]


KINDS = {  # the chapter's label -> the model key of scripts/make_part3_shapes.py
    "factorised": "bernoulli",
    "MADE + latents": "made",
    "MADE, no latents": "made0",
    "renderer (exact)": "render",
    "renderer (squares, disks)": "render_disk",
    "templates + transformer": "template",
}


def values(
    records: dict, key: str, metric: str, *, n: int = 20000, seeds=range(5)
) -> np.ndarray:
    """One stored metric of model ``key`` trained on ``n`` images, one value per seed."""
    for s in seeds:
        if f"{key}_n{n}_s{s}" not in records:
            raise ValueError(
                f"key must name a model cached at n = {n} and seed {s}, got {key!r}"
            )
    return np.array([records[f"{key}_n{n}_s{s}"]["metrics"][metric] for s in seeds])


def criteria_table(
    records: dict,
    columns: dict[str, str],
    *,
    kinds=None,
    n: int = 20000,
    seeds=range(5),
    digits: int = 3,
):
    """DataFrame of ``"mean ± se"`` over seeds: rows the models, columns ``columns``
    (metric -> column title); a metric a model lacks (no latents) reads ``"–"``, and a
    model without latents reports its exact ``test_ll`` under any ``test_ll_k*``."""
    if kinds is not None and not isinstance(kinds, dict):
        raise TypeError(
            f"kinds must be a dict label -> model, got {type(kinds).__name__}"
        )
    import pandas as pd

    from lvmkit.book import replicates, sig

    kinds = KINDS if kinds is None else kinds
    rows = {}
    for label, key in kinds.items():
        row = []
        for metric in columns:
            rec = records[f"{key}_n{n}_s0"]["metrics"]
            name = metric
            if metric not in rec and metric.startswith("test_ll"):
                name = "test_ll"  # no latents: log p(x) is exact, whatever K
            if name not in rec or (
                name.startswith(("mi", "kl", "r2"))
                and records[f"{key}_n{n}_s0"]["config"]["n_latents"] == 0
            ):
                row.append("–")
                continue
            r = replicates(values(records, key, name, n=n, seeds=seeds))
            row.append(f"{sig(r.mean, digits)} ± {sig(r.se, 1)}")
        rows[label] = row
    frame = pd.DataFrame(rows, index=list(columns.values())).T
    frame.index.name = f"model ({len(list(seeds))} seeds, mean ± se)"
    return frame


def plot_data_size_sweep(
    records: dict,
    kinds: dict[str, str],
    metrics: dict[str, str],
    *,
    sizes=(500, 2000, 20000),
    seeds=range(5),
):
    """One panel per metric: mean ± se over seeds against the number of training images
    (log scale), one line per model. Returns the figure."""
    if not isinstance(kinds, dict) or not isinstance(metrics, dict):
        raise TypeError(
            "kinds and metrics must be dicts (label -> model, label -> metric)"
        )
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(metrics), figsize=(2.9 * len(metrics), 3.2), squeeze=False
    )
    for ax, (metric, title) in zip(axes[0], metrics.items(), strict=True):
        for label, key in kinds.items():
            v = np.array(
                [values(records, key, metric, n=n, seeds=seeds) for n in sizes]
            )
            se = v.std(1, ddof=1) / np.sqrt(v.shape[1])
            ax.errorbar(sizes, v.mean(1), yerr=se, marker="o", capsize=3, label=label)
        ax.set_xscale("log")
        ax.set_xlabel("training images")
        ax.set_title(title)
    axes[0, 0].legend(fontsize="small")
    return fig


def t_bound(values, rate: float, *, side: str = "lower") -> float:
    """The one-sided ``1 - rate`` Student-t confidence bound on the mean of replicates
    (``"lower"``: mean - t se; ``"upper"``: mean + t se), as in
    :func:`lvmkit.book.check_replicates`."""
    if not (isinstance(rate, float) and 0 < rate < 0.5):
        raise ValueError(f"rate must be a float in (0, 0.5), got {rate!r}")
    validation.check_choice("side", side, ("lower", "upper"))
    from scipy import stats

    from lvmkit.book import replicates

    r = replicates(values)
    t = float(stats.t.isf(rate, r.n - 1))
    return r.mean - t * r.se if side == "lower" else r.mean + t * r.se


@torch.no_grad()
def template_correlations(decoder) -> np.ndarray:
    """Pearson correlation of each learned template of a
    :class:`lvmkit.structured_decoders.TemplateDecoder` (pixel-on probabilities) with
    a centred square and a centred plus of half-width 1/2 (the decoder's nominal size)
    rendered at the template's resolution; shape ``(2, 2)``: [template, (square, plus)]."""
    if not hasattr(decoder, "templates"):
        raise TypeError(
            f"decoder must be a TemplateDecoder, got {type(decoder).__name__}"
        )
    from lvmkit.datasets import render_shapes

    side = decoder.templates.shape[-1]
    c = torch.tensor((side - 1) / 2)
    ref = [
        render_shapes(
            torch.tensor(k), c, c, torch.tensor(side / 4), size=side, noise=0.0
        )
        for k in (0.0, 1.0)
    ]
    t = torch.sigmoid(decoder.templates).reshape(2, -1)
    return np.array(
        [
            [float(torch.corrcoef(torch.stack([t[j], r]))[0, 1]) for r in ref]
            for j in range(2)
        ]
    )
