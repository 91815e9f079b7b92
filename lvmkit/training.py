"""Lightning around :class:`lvmkit.vae.VAE`: the module keeps the maths, this file the loop.

:class:`LitVAE` only forwards batches to ``VAE.loss``; :func:`fit` builds a quiet
``Trainer`` (no progress bar unless asked, no model summary or logger) whose
``accelerator``, ``devices`` and ``strategy`` pass straight through, so the same call
trains on a laptop CPU, a GPU or several.

Importing this module imports Lightning; ``import lvmkit`` does not.
"""

from __future__ import annotations

import logging
import warnings

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from lvmkit import validation
from lvmkit.vae import VAE

__all__ = ["LitVAE", "fit"]


class LitVAE(pl.LightningModule):
    """Train a VAE on ``D + beta R + mmd_weight MMD`` with Adam.

    Args:
        vae: The model (its parameters are trained in place).
        beta: Weight of the rate (1: the ELBO).
        mmd_weight: Weight of the MMD between aggregate posterior and prior (InfoVAE).
        lr: Adam learning rate.
    """

    def __init__(
        self, vae: VAE, *, beta: float = 1.0, mmd_weight: float = 0.0, lr: float = 1e-3
    ):
        super().__init__()
        if not isinstance(vae, VAE):
            raise TypeError(
                f"vae must be a lvmkit.vae.VAE, got {validation.describe(vae)}"
            )
        validation.check_nonnegative("beta", beta)
        validation.check_nonnegative("mmd_weight", mmd_weight)
        validation.check_positive("lr", lr)
        self.vae, self.beta, self.mmd_weight, self.lr = vae, beta, mmd_weight, lr
        self.history: list[float] = []  # loss of every step, filled at each epoch's end
        self._pending: list[torch.Tensor] = []

    def __setattr__(self, name: str, value) -> None:
        # Lightning records the running hook's name on the module twice per hook call,
        # about 40 times a step, and nn.Module.__setattr__ checks parameters, buffers and
        # submodules each time: measured on this project's 2-core CPU, 0.05 ms of
        # Lightning's 0.34 ms per-step cost. The name is a plain string attribute, so
        # it is stored directly, where nn.Module would store it (the instance dict).
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        loss = self.vae.loss(x, beta=self.beta, mmd_weight=self.mmd_weight)
        self._pending.append(loss.detach())  # no device sync per step
        return loss

    def _flush(self) -> None:
        if self._pending:
            self.history.extend(torch.stack(self._pending).cpu().tolist())
            self._pending.clear()

    def on_train_epoch_end(self) -> None:
        self._flush()

    def on_train_end(self) -> None:
        self._flush()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def fit(
    vae: VAE,
    x_train: torch.Tensor,
    *,
    beta: float = 1.0,
    mmd_weight: float = 0.0,
    epochs: int = 100,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    accelerator: str = "auto",
    devices="auto",
    strategy="auto",
    fast_dev_run: bool = False,
    progress: bool = False,
    **trainer_kw,
) -> LitVAE:
    """Train ``vae`` on the rows of ``x_train`` (shape ``(n, P)``) and return the LitVAE.

    Seeds torch with ``seed`` (weights are assumed already initialised by the caller,
    the batch order and Monte Carlo noise come from here). Deterministic algorithms are
    not forced (on the CPU the VAE's kernels are deterministic anyway and the check costs
    time); pass ``deterministic=True`` to ask Lightning for them, e.g. on a GPU. Extra
    keyword arguments go to ``pl.Trainer``.

    Quiet by default (the book's outputs hold no progress bars); ``progress=True`` shows
    Lightning's progress bar, for a reader training in their own notebook or terminal.

    ``accelerator``, ``devices`` and ``strategy`` go to Lightning unchanged, e.g.
    ``accelerator="cpu", devices=2, strategy="ddp"`` trains on two processes (gloo),
    ``accelerator="gpu", devices=4, strategy="ddp"`` on four GPUs, and ``num_nodes=2``
    across machines. With ``strategy="ddp"`` Lightning runs the calling script once per
    further device, so call it from a script (not an interactive session); every rank
    returns the same trained weights (DDP keeps them in sync) and ``history`` holds the
    losses of that rank's share of the batches.
    """
    _validate_fit(vae, x_train, beta, mmd_weight, epochs, batch_size, lr)
    if not isinstance(progress, bool):
        raise TypeError(
            f"progress must be True or False, got {validation.describe(progress)}"
        )
    if x_train.ndim != 2 or not torch.isfinite(x_train).all():
        raise ValueError(
            f"x_train must be a finite (n, P) tensor, got {tuple(x_train.shape)}"
        )
    for name in ("pytorch_lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    torch.manual_seed(seed)
    loader = DataLoader(
        TensorDataset(x_train),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    lit = LitVAE(vae, beta=beta, mmd_weight=mmd_weight, lr=lr)
    trainer = pl.Trainer(
        max_epochs=epochs,
        accelerator=accelerator,
        devices=devices,
        strategy=strategy,
        enable_progress_bar=bool(progress),
        enable_model_summary=False,
        logger=False,
        enable_checkpointing=False,
        fast_dev_run=fast_dev_run,
        **trainer_kw,
    )
    with warnings.catch_warnings():
        # Lightning 2.6 calls torch.utils._pytree with ``isinstance(treespec, LeafSpec)``,
        # which torch >= 2.9 deprecates; the warning is about Lightning's code, not the
        # caller's, and is ignored here only (by its message), while Lightning trains.
        warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
        trainer.fit(lit, loader)
    vae.cpu().eval()
    return lit


def _validate_fit(vae, x_train, beta, mmd_weight, epochs, batch_size, lr) -> None:
    """Every data argument of :func:`fit`, before Lightning starts."""
    if not isinstance(vae, VAE):
        raise TypeError(f"vae must be a lvmkit.vae.VAE, got {validation.describe(vae)}")
    validation.as_data_batch("x_train", x_train, vae.n_pixels)
    validation.check_int("epochs", epochs, 1)
    validation.check_int("batch_size", batch_size, 1)
    validation.check_nonnegative("beta", beta)
    validation.check_nonnegative("mmd_weight", mmd_weight)
    validation.check_positive("lr", lr)
