"""Train the shapes models of "Structure without an oracle" at several seeds and cache
them: data/part3_shapes_seeds.{pt,json}.

Run from the repository root:

    .venv/bin/python scripts/make_part3_shapes.py --jobs 2     # every model, seeds 0-7

(about 10 minutes on 2 idle cores; the chapter's held-out seeds 5-7 were trained after
its claims were written, by ``--seeds 5 6 7``). ``--cache NAME`` writes
data/NAME.{pt,json} instead (a second run beside the first), ``--merge NAME`` merges
it back.

Models (decoder, latents): factorised Bernoulli MLP and MADE (flexible), MADE without
latents (a density reference), the exact renderer of the data ("render", the oracle),
a misspecified renderer that draws squares or disks ("render_disk") and a partly rigid
decoder, two learned templates moved by a spatial transformer ("template"), each on
the full training set (20 000 images) at every seed; and the data-size sweep, the
factorised, template and square/disk decoders on the first 500 and 2000 training
images (the full-set models are the sweep's third point).

Equal budgets and early stopping: every model gets the same number of gradient steps
(EPOCHS passes over the full set, batch 256; a smaller training set is passed over
proportionally more often), the validation ELBO (1000 fresh images of the same process,
seed 2) is computed after every epoch, the best state is kept, and training stops
after PATIENCE_STEPS steps without improvement. Weights are stored in float16 and the
metrics are computed from the stored weights (tests/test_part3_shapes.py re-checks a
few). The trajectory depends on the CPU and thread count, hence the cache. Models
already in the cache are skipped (delete the files to retrain everything). The total
time is printed at the end.
"""

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EPOCHS = 20  # passes over the full training set: 1580 steps of batch 256
BATCH = 256
PATIENCE_STEPS = 400  # about five full-set epochs
N_FULL = 20000
SIZES = (500, 2000)
MAIN = {  # key: (decoder, n_latents)
    "bernoulli": ("bernoulli", 4),
    "made": ("made", 4),
    "made0": ("made", 0),
    "render": ("render", 4),
    "render_disk": ("render_disk", 4),
    "template": ("template", 4),
}
SWEEP = ("bernoulli", "template", "render_disk")
SEEDS = (0, 1, 2, 3, 4, 5, 6, 7)  # 5-7: the chapter's held-out seeds


def model_name(key: str, n: int, seed: int) -> str:
    return f"{key}_n{n}_s{seed}"


def plan(seeds) -> list[tuple[str, str, int, int]]:
    """(name, key, n_train, seed) of every model, full-set models first."""
    jobs = [(model_name(k, N_FULL, s), k, N_FULL, s) for s in seeds for k in MAIN]
    jobs += [
        (model_name(k, n, s), k, n, s) for s in seeds for n in SIZES for k in SWEEP
    ]
    return jobs


def validation_images() -> torch.Tensor:
    from lvmkit.datasets import make_shapes

    return make_shapes(1000, generator=torch.Generator().manual_seed(2)).images


def train_one(name: str, key: str, n: int, seed: int) -> tuple[str, dict, dict]:
    """Train one model in this process (1 thread) and return (name, state, record)."""
    import pytorch_lightning as pl

    from lvmkit.book.part3_structure import model_metrics
    from lvmkit.datasets import load_shapes_split
    from lvmkit.structured_decoders import build_structured_vae
    from lvmkit.training import fit

    torch.set_num_threads(1)
    decoder, d = MAIN[key]
    split = load_shapes_split()[0]
    x_train, x_val = split.x_train[:n], validation_images()
    steps_per_epoch = math.ceil(n / BATCH)
    epochs = math.ceil(EPOCHS * math.ceil(N_FULL / BATCH) / steps_per_epoch)
    patience = math.ceil(PATIENCE_STEPS / steps_per_epoch)
    torch.manual_seed(seed)
    vae = build_structured_vae(
        decoder, 144, d, generator=torch.Generator().manual_seed(1000 + seed)
    )

    class EarlyStop(pl.Callback):
        def __init__(self):
            self.best, self.best_epoch, self.state, self.epochs_run = (
                -math.inf,
                0,
                None,
                0,
            )

        def on_train_epoch_end(self, trainer, pl_module):
            with torch.no_grad():
                vae.eval()
                elbo = float(
                    vae.terms(
                        x_val, generator=torch.Generator().manual_seed(0)
                    ).elbo.mean()
                )
                vae.train()
            epoch = trainer.current_epoch + 1
            self.epochs_run = epoch
            if elbo > self.best:
                self.best, self.best_epoch = elbo, epoch
                self.state = {
                    k: v.detach().clone() for k, v in vae.state_dict().items()
                }
            elif epoch - self.best_epoch >= patience:
                trainer.should_stop = True

    stop = EarlyStop()
    t0 = time.perf_counter()
    fit(
        vae,
        x_train,
        epochs=epochs,
        batch_size=BATCH,
        lr=2e-3,
        seed=seed,
        accelerator="cpu",
        callbacks=[stop],
    )
    seconds = time.perf_counter() - t0
    state = {k: v.to(torch.float16) for k, v in stop.state.items()}
    vae.load_state_dict(state)  # the metrics are those of the stored weights
    vae.float().eval()
    cfg = {
        "decoder": decoder,
        "n_latents": d,
        "n_pixels": 144,
        "prior": "normal",
        "key": key,
        "n_train": n,
        "seed": seed,
        "max_epochs": epochs,
        "batch_size": BATCH,
        "lr": 2e-3,
        "patience_epochs": patience,
    }
    rec = {
        "config": cfg,
        "metrics": model_metrics(vae, n, k_large=500 if n == N_FULL else 0),
        "best_epoch": stop.best_epoch,
        "epochs_run": stop.epochs_run,
        "steps": stop.best_epoch * steps_per_epoch,
        "val_elbo": stop.best,
        "train_seconds": round(seconds, 1),
    }
    return name, state, rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--jobs", type=int, default=2, help="parallel processes, 1 thread each"
    )
    ap.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    ap.add_argument("--only", nargs="*", default=None, help="model names")
    ap.add_argument(
        "--full-only",
        action="store_true",
        help="only the full-set models, not the data-size sweep",
    )
    ap.add_argument(
        "--cache",
        default="part3_shapes_seeds",
        help="cache name under data/ (a second run in parallel needs its own)",
    )
    ap.add_argument(
        "--merge",
        default=None,
        help="merge the cache of this name into --cache, delete it, and stop",
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    out_pt, out_json = (ROOT / "data" / f"{args.cache}.{e}" for e in ("pt", "json"))
    if args.merge:
        src_pt, src_json = (ROOT / "data" / f"{args.merge}.{e}" for e in ("pt", "json"))
        weights = torch.load(out_pt, weights_only=True)
        weights.update(torch.load(src_pt, weights_only=True))
        info = json.loads(out_json.read_text()) | json.loads(src_json.read_text())
        torch.save(weights, out_pt)
        out_json.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
        src_pt.unlink()
        src_json.unlink()
        print(f"merged {args.merge} into {args.cache}: {len(info)} models")
        return
    weights = torch.load(out_pt, weights_only=True) if out_pt.exists() else {}
    info = json.loads(out_json.read_text()) if out_json.exists() else {}
    planned = plan(args.seeds)
    if args.full_only:
        planned = [j for j in planned if j[2] == N_FULL and j[1] != "made0"]
    jobs = [j for j in planned if j[0] not in info]
    if args.only:
        jobs = [j for j in jobs if j[0] in args.only]
    t0 = time.perf_counter()
    print(f"{len(jobs)} models to train on {args.jobs} processes", flush=True)
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(train_one, *j) for j in jobs]
        for fut in as_completed(futures):
            name, state, rec = fut.result()
            weights[name], info[name] = state, rec
            m = rec["metrics"]
            print(
                f"{name}: {rec['train_seconds']:.0f} s, best epoch {rec['best_epoch']}/"
                f"{rec['epochs_run']}, test_ll {m['test_ll']:.3f}, mi {m['mi']:.2f}, "
                f"probe {m['linear_probe']:.3f}",
                flush=True,
            )
            torch.save(weights, out_pt)
            out_json.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    print(
        f"total: {time.perf_counter() - t0:.0f} s wall clock for {len(jobs)} models",
        flush=True,
    )


if __name__ == "__main__":
    main()
