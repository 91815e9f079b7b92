"""Train every model of part 3 and cache it: data/part3_{digits,shapes}.{pt,json} and
data/part3_digits_seeds.{pt,json} (the digits models at several seeds).

Run from the repository root:

    .venv/bin/python scripts/make_part3.py --data digits --jobs 2
    .venv/bin/python scripts/make_part3.py --data shapes

``--data digits`` first trains the seeded models of ``lvmkit.book.part3_seeds.SWEEP``
(every model at each of its seeds, early-stopped on a validation split; ``--jobs``
processes of one thread each, a warm start queued as soon as the model it starts from
is done; ``--seeds`` restricts the seeds, ``--part seeds`` skips the rest), then the
single-seed models of ``MODELS`` below (``--part legacy`` trains only those), and
prints the total time. ``--out NAME`` writes the seeded models to data/NAME.{pt,json}
instead (e.g. further seeds trained beside a running sweep), ``--merge NAME`` merges
them into the seeded cache. The shapes models take about 3 minutes on one core.

Each model is trained with lvmkit.training.fit (Lightning, deterministic, seed 0). The
trajectory depends on the CPU and the thread count, so the weights are cached rather
than retrained in the notebooks, and the metrics computed right after training are
stored next to them; tests/test_training.py checks that loading the weights
reproduces those metrics. Pass --accelerator gpu (any Lightning accelerator) to train
elsewhere. Progress (one line per model and per epoch) goes to stderr; --no-progress
turns it off.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lvmkit.book.score_table import evaluate  # noqa: E402
from lvmkit.datasets import load_digits_binary, load_shapes_split  # noqa: E402
from lvmkit.training import fit  # noqa: E402
from lvmkit.vae import build_vae  # noqa: E402

# name -> model whose trained weights initialise it (the latent inputs of its decoder
# start at zero): a decoder that already models the data before the encoder learns.
WARM_START = {"digits_made_warm": "digits_made0"}

# name: (data, decoder, n_latents, prior, beta, mmd_weight, epochs)
MODELS = {
    "digits_bernoulli": ("digits", "bernoulli", 2, "normal", 1.0, 0.0, 100),
    "digits_bernoulli_laplace": ("digits", "bernoulli", 2, "laplace", 1.0, 0.0, 100),
    "digits_made0": ("digits", "made", 0, "normal", 1.0, 0.0, 60),
    "digits_made": ("digits", "made", 2, "normal", 1.0, 0.0, 60),
    "digits_made_beta0.1": ("digits", "made", 2, "normal", 0.1, 0.0, 60),
    "digits_made_beta0.3": ("digits", "made", 2, "normal", 0.3, 0.0, 60),
    "digits_made_beta3": ("digits", "made", 2, "normal", 3.0, 0.0, 60),
    "digits_made_infovae": ("digits", "made", 2, "normal", 0.1, 100.0, 60),
    "digits_made_warm": ("digits", "made", 2, "normal", 1.0, 0.0, 30),
    "shapes_bernoulli": ("shapes", "bernoulli", 4, "normal", 1.0, 0.0, 15),
    "shapes_made0": ("shapes", "made", 0, "normal", 1.0, 0.0, 15),
    "shapes_made": ("shapes", "made", 4, "normal", 1.0, 0.0, 15),
    "shapes_render": ("shapes", "render", 4, "normal", 1.0, 0.0, 15),
}


def load_data(name):
    """The fixed train/test data of a part-3 model: (x_train, y_train, x_test, y_test)."""
    split = load_digits_binary() if name == "digits" else load_shapes_split()[0]
    return split.x_train, split.y_train, split.x_test, split.y_test


def config(name):
    data, decoder, d, prior, beta, mmd, epochs = MODELS[name]
    return {
        "data": data,
        "decoder": decoder,
        "n_latents": d,
        "prior": prior,
        "beta": beta,
        "mmd_weight": mmd,
        "epochs": epochs,
        "n_pixels": 64 if data == "digits" else 144,
        "warm_start": WARM_START.get(name),
    }


def metrics(vae, data):
    """The metrics stored at save time (and re-checked by the test): fixed generator."""
    return evaluate(
        vae,
        *load_data(data),
        n_iw=50,
        n_mi_samples=5,
        generator=torch.Generator().manual_seed(0),
    )


class StderrProgress(pl.Callback):
    """One line on stderr per epoch: the model, the epoch and its mean training loss."""

    def __init__(self, name: str):
        self.name = name

    def on_train_epoch_end(self, trainer, pl_module):
        pl_module._flush()  # Lightning calls the callbacks before the module's own hook
        losses = pl_module.history[-trainer.num_training_batches :]
        mean = sum(losses) / max(len(losses), 1)
        print(
            f"{self.name}: epoch {trainer.current_epoch + 1}/{trainer.max_epochs}, "
            f"loss {mean:.3f}",
            file=sys.stderr,
            flush=True,
        )


def _seeded_job(name, seed, warm_state):
    torch.set_num_threads(1)
    from lvmkit.book.part3_seeds import train_one

    return name, seed, *train_one(name, seed, warm_state)


def train_seeded(seeds, only, jobs, out=None):
    """Train every (model, seed) of the sweep in ``jobs`` processes; update the cache
    (``data/<out>.{pt,json}``, default the book's; merge a separate one with --merge)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    from lvmkit.book.part3_seeds import CACHE, SWEEP, key

    out_pt, out_json = (
        ROOT / "data" / f"{out or CACHE}.{ext}" for ext in ("pt", "json")
    )
    weights = torch.load(out_pt, weights_only=True) if out_pt.exists() else {}
    info = json.loads(out_json.read_text()) if out_json.exists() else {}
    todo = [
        (n, s)
        for s in seeds
        for n, spec in SWEEP.items()
        if s in spec[-1] and (only is None or n in only)
    ]
    ready = [(n, s) for n, s in todo if SWEEP[n][5] is None]
    waiting = [(n, s) for n, s in todo if SWEEP[n][5] is not None]
    pending = set(todo)
    t0, done = time.perf_counter(), 0
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        running = set()

        def submit():
            for n, s in list(waiting):
                base = key(SWEEP[n][5], s)
                if base in weights and (SWEEP[n][5], s) not in pending:
                    waiting.remove((n, s))
                    running.add(pool.submit(_seeded_job, n, s, weights[base]))
            while ready and len(running) < 2 * jobs:
                running.add(pool.submit(_seeded_job, *ready.pop(0), None))

        submit()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                running.remove(f)
                name, seed, state, rec = f.result()
                pending.discard((name, seed))
                weights[key(name, seed)], info[key(name, seed)] = state, rec
                done += 1
                m = rec["metrics"]
                print(
                    f"[{done}/{len(todo)}, {time.perf_counter() - t0:.0f} s] {key(name, seed)}:"
                    f" {rec['train_seconds']:.0f} s, best epoch {rec['best_epoch']}, "
                    + ", ".join(
                        f"{k}={m[k]:.3f}" for k in ("test_ll", "rate", "mi", "gap")
                    ),
                    flush=True,
                )
            torch.save(weights, out_pt)
            out_json.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
            submit()
        if waiting:
            raise RuntimeError(f"warm starts without their base model: {waiting}")
    return time.perf_counter() - t0


def merge_seeded(name):
    """Add the models of data/<name>.{pt,json} to the seeded cache (theirs win)."""
    from lvmkit.book.part3_seeds import CACHE, compact

    info = {
        **json.loads((ROOT / "data" / f"{CACHE}.json").read_text()),
        **json.loads((ROOT / "data" / f"{name}.json").read_text()),
    }
    for ext in ("pt", "json"):
        src, dst = ROOT / "data" / f"{name}.{ext}", ROOT / "data" / f"{CACHE}.{ext}"
        if ext == "pt":
            merged = {
                **torch.load(dst, weights_only=True),
                **torch.load(src, weights_only=True),
            }
            torch.save(
                {k: compact(v, info[k]["config"]) for k, v in merged.items()}, dst
            )
        else:
            merged = {**json.loads(dst.read_text()), **json.loads(src.read_text())}
            dst.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
        src.unlink()
    print(f"merged data/{name}.{{pt,json}} into data/{CACHE}.{{pt,json}}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", choices=["digits", "shapes"], required=True)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument(
        "--part",
        choices=["all", "seeds", "legacy"],
        default="all",
        help="digits: the seeded sweep, the single-seed models, or both",
    )
    ap.add_argument("--seeds", nargs="*", type=int, default=list(range(8)))
    ap.add_argument(
        "--jobs", type=int, default=2, help="processes for the seeded sweep"
    )
    ap.add_argument(
        "--out", default=None, help="seeded sweep: write data/OUT.{pt,json}"
    )
    ap.add_argument(
        "--merge",
        default=None,
        help="merge data/MERGE.{pt,json} (an --out run) into the seeded cache",
    )
    ap.add_argument("--accelerator", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one line per model and per epoch on stderr (default on)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    if args.merge:
        merge_seeded(args.merge)
        return
    if args.data == "digits" and args.part != "legacy":
        seconds = train_seeded(args.seeds, args.only, args.jobs, args.out)
        print(
            f"seeded digits models: {seconds / 60:.1f} min with {args.jobs} processes",
            flush=True,
        )
        if args.part == "seeds":
            return
    out_pt, out_json = (
        ROOT / "data" / f"part3_{args.data}.{ext}" for ext in ("pt", "json")
    )
    weights = torch.load(out_pt, weights_only=True) if out_pt.exists() else {}
    info = json.loads(out_json.read_text()) if out_json.exists() else {}
    names = [
        m for m in (args.only or MODELS) if m in MODELS and MODELS[m][0] == args.data
    ]
    for i, name in enumerate(names):
        cfg = config(name)
        if args.progress:
            print(
                f"[{i + 1}/{len(names)}] training {name} ({cfg['epochs']} epochs)",
                file=sys.stderr,
                flush=True,
            )
        x_train = load_data(cfg["data"])[0]
        torch.manual_seed(0)
        vae = build_vae(
            cfg["decoder"], cfg["n_pixels"], cfg["n_latents"], prior=cfg["prior"]
        )
        if cfg["warm_start"]:
            vae.load_state_dict(weights[cfg["warm_start"]], strict=False)
            with torch.no_grad():
                for layer in [*vae.decoder.cond, vae.decoder.cond_out]:
                    layer.weight.zero_()
        t0 = time.perf_counter()
        fit(
            vae,
            x_train,
            beta=cfg["beta"],
            mmd_weight=cfg["mmd_weight"],
            epochs=cfg["epochs"],
            batch_size=128 if cfg["data"] == "digits" else 256,
            lr=2e-3,
            seed=0,
            accelerator=args.accelerator,
            deterministic=True,
            callbacks=[StderrProgress(name)] if args.progress else [],
        )
        seconds = time.perf_counter() - t0
        state = {k: v.detach().to(torch.float16) for k, v in vae.state_dict().items()}
        vae.load_state_dict(
            state
        )  # stored in float16: the metrics are those of the stored weights
        m = metrics(vae, cfg["data"])
        print(
            f"{name}: {seconds:.0f} s, "
            + ", ".join(f"{k}={v:.3f}" for k, v in m.items()),
            flush=True,
        )
        weights[name] = state
        info[name] = {"config": cfg, "metrics": m, "train_seconds": round(seconds, 1)}
        torch.save(weights, out_pt)
        out_json.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    print(f"total: {(time.perf_counter() - t_start) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
