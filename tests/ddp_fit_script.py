"""Run by tests/test_training.py::test_fit_trains_with_ddp_on_two_cpu_processes.

``python tests/ddp_fit_script.py OUT``: the public call ``training.fit(...,
accelerator="cpu", devices=2, strategy="ddp")`` on a tiny VAE. Lightning's DDP launcher
runs this script again for rank 1, so the script, not pytest, is what it re-executes.
Each rank writes ``OUT/rank{r}.pt``: the weights it holds when training ends (a
callback), the weights ``fit`` returned to its caller, and the rank's loss history.
"""

import sys
from pathlib import Path

import pytorch_lightning as pl
import torch

from lvmkit.training import fit
from lvmkit.vae import build_vae


class _Record(pl.Callback):
    def on_train_end(self, trainer, pl_module):
        self.rank = trainer.global_rank
        self.world = trainer.world_size
        self.state = {
            k: v.detach().cpu().clone() for k, v in pl_module.vae.state_dict().items()
        }


def main(out: Path) -> None:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(256, 16, generator=g) < torch.linspace(0.1, 0.9, 16)).float()
    torch.manual_seed(0)
    vae = build_vae("bernoulli", 16, 2, hidden=16)
    rec = _Record()
    lit = fit(
        vae,
        x,
        epochs=6,
        batch_size=32,
        lr=1e-2,
        seed=0,
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        callbacks=[rec],
    )
    torch.save(
        {
            "rank": rec.rank,
            "world": rec.world,
            "in_training": rec.state,
            "returned": vae.state_dict(),
            "history": lit.history,
        },
        out / f"rank{rec.rank}.pt",
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
