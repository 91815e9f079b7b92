r"""Integrators of an HMC step: draw a momentum, integrate, report the energy change.

An integrator is an object with ``init(position) -> state``,
``propose(state, eps, *, generator) -> (proposal, EnergyChange)`` (``eps`` of shape
``(B, 1)``; it draws the momentum, ``randn(B, N)``, from ``generator``),
``position(state)`` and ``log_prob(state)``. Two are here, interchangeable in
:func:`~lvmkit.mcmc.hmc.build_step`:

* :class:`Leapfrog`: the leapfrog (velocity Verlet) scheme for any differentiable log
  density, identity mass matrix.
* :class:`ExactKinkSplitting`: for a Gaussian likelihood and a Laplace prior, Strang's
  splitting (kick, exact flow of the kinetic energy plus ``|x|_1 / s``, kick), which
  integrates the prior's kinks at ``x_i = 0`` exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from lvmkit.mcmc.state import EnergyChange, HMCState

__all__ = ["ExactKinkSplitting", "KinkState", "Leapfrog", "v_flow"]


class Leapfrog:
    """``n_steps`` leapfrog steps on ``log_prob_and_grad``, identity mass matrix.

    Args:
        log_prob_and_grad: ``u (B, N) -> (log p (B,), grad (B, N))``, unnormalised.
        n_steps: Leapfrog steps per proposal.
    """

    def __init__(self, log_prob_and_grad: Callable, n_steps: int):
        self.log_prob_and_grad = log_prob_and_grad
        self.n_steps = n_steps

    def init(self, position: torch.Tensor) -> HMCState:
        return HMCState(position, *self.log_prob_and_grad(position))

    def propose(
        self,
        state: HMCState,
        eps: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[HMCState, EnergyChange]:
        u, lp, g = state
        p = torch.randn(u.shape, generator=generator, dtype=u.dtype)
        u_new, p_new = u, p + 0.5 * eps * g
        for k in range(self.n_steps):
            u_new = u_new + eps * p_new
            lp_new, g_new = self.log_prob_and_grad(u_new)
            if k < self.n_steps - 1:
                p_new = p_new + eps * g_new
        p_new = p_new + 0.5 * eps * g_new
        kin0, kin1 = 0.5 * (p * p).sum(-1), 0.5 * (p_new * p_new).sum(-1)
        energy = EnergyChange(
            lp_new - kin1 - lp + kin0, lp_new - lp, torch.isfinite(lp_new)
        )
        return HMCState(u_new, lp_new, g_new), energy

    @staticmethod
    def position(state: HMCState) -> torch.Tensor:
        return state.position

    @staticmethod
    def log_prob(state: HMCState) -> torch.Tensor:
        return state.log_prob


class KinkState(NamedTuple):
    """State of :class:`ExactKinkSplitting`: ``x = sign * distance``.

    Attributes:
        sign: ``sign(x)`` (+-1), shape ``(B, N)``.
        distance: ``|x|``, shape ``(B, N)``.
        xG: ``x G``, shape ``(B, N)``.
        potential: ``U(x) = -log`` posterior (unnormalised), shape ``(B,)``.
    """

    sign: torch.Tensor
    distance: torch.Tensor
    xG: torch.Tensor
    potential: torch.Tensor


class ExactKinkSplitting:
    r"""HMC integrator for a Gaussian likelihood and a Laplace prior, kinks exact.

    The Hamiltonian, with a diagonal mass ``m`` (shape ``(N,)``), is

    .. math::
        H(x, v) &= \underbrace{\tfrac12 x^\top G x - b^\top x}_{\text{likelihood}}
        + \underbrace{\sum_i \tfrac12 m_i v_i^2 + \lvert x_i\rvert / s}_{\text{exact}},
        \\
        G &= A^\top A / \sigma^2, \quad b = A^\top I / \sigma^2 .

    One step is Strang's splitting: half a kick ``v += eps/2 m^{-1} (b - G x)``, the
    exact flow of the second part for ``eps`` (:func:`v_flow`), half a kick. Each part
    is the exact flow of a Hamiltonian, so the step is symplectic and reversible and the
    Metropolis test on ``H`` makes the chain exact; since the non-smooth part is never
    split, the energy error is that of leapfrog on the smooth likelihood, second order
    in ``eps``. One ``(B, N) x (N, N)`` product per step.

    Args:
        G: ``A^T A / sigma^2``, shape ``(N, N)``.
        b: ``I A / sigma^2``, shape ``(B, N)``.
        prior_scale: ``s`` of the Laplace prior ``exp(-|x| / s)``.
        mass: Diagonal mass ``m``, shape ``(N,)``.
        n_steps: Steps per proposal.
    """

    def __init__(
        self,
        G: torch.Tensor,
        b: torch.Tensor,
        prior_scale: float,
        mass: torch.Tensor,
        n_steps: int,
    ):
        self.G, self.b, self.s, self.mass, self.n_steps = (
            G,
            b,
            prior_scale,
            mass,
            n_steps,
        )
        self.acc = 1.0 / (prior_scale * mass)
        self.two_over_acc = 2.0 / self.acc
        self.inv_m = 1.0 / mass

    def _potential(self, x, xG):
        return 0.5 * (x * xG).sum(-1) - (x * self.b).sum(-1) + x.abs().sum(-1) / self.s

    def init(self, position: torch.Tensor) -> KinkState:
        sg = torch.where(position >= 0, 1.0, -1.0).to(position.dtype)
        xG = position @ self.G
        return KinkState(sg, position.abs(), xG, self._potential(position, xG))

    def propose(
        self,
        state: KinkState,
        eps: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[KinkState, EnergyChange]:
        sg, y, xG, U = state
        v = torch.randn(y.shape, generator=generator, dtype=y.dtype) * self.inv_m.sqrt()
        kin0 = 0.5 * (self.mass * v * v).sum(-1)
        sg1, y1, w1 = sg, y, sg * v
        half = 0.5 * eps * self.inv_m
        gx = self.b - xG
        for _ in range(self.n_steps):
            w1 = w1 + sg1 * half * gx
            sg1, y1, w1 = v_flow(sg1, y1, w1, eps, self.acc, self.two_over_acc)
            x1 = sg1 * y1
            xG1 = x1 @ self.G
            gx = self.b - xG1
            w1 = w1 + sg1 * half * gx
        U1 = self._potential(x1, xG1)
        kin1 = 0.5 * (self.mass * w1 * w1).sum(-1)
        energy = EnergyChange(U + kin0 - U1 - kin1, U - U1, torch.isfinite(U1))
        return KinkState(sg1, y1, xG1, U1), energy

    @staticmethod
    def position(state: KinkState) -> torch.Tensor:
        return state.sign * state.distance

    @staticmethod
    def log_prob(state: KinkState) -> torch.Tensor:
        return -state.potential


def v_flow(
    sg: torch.Tensor,
    y: torch.Tensor,
    w: torch.Tensor,
    tau: torch.Tensor,
    acc: torch.Tensor,
    two_over_acc: torch.Tensor,
):
    r"""Exact flow, for time ``tau``, of ``m w^2 / 2 + |x| / s`` for each latent separately.

    A latent is kept as its side ``sg = sign(x)`` (+-1), its distance ``y = |x| >= 0``
    and its outward velocity ``w = sg dx/dt``. It decelerates at ``acc = 1 / (s m)``
    while it moves away from 0 and accelerates at the same rate towards it: with
    ``u = sqrt(w^2 + 2 acc y)`` (its speed at 0, conserved) it runs the parabola
    ``y(r) = u r - acc r^2 / 2`` on one side, ``r`` the time since it last crossed 0,
    for ``2 u / acc`` before crossing to the other side, where the same parabola
    starts again. The state is ``r0 = (u - w) / acc``; after ``tau`` it is
    ``r0 + tau`` less ``k`` whole excursions, and the side has flipped ``k`` times.

    Args:
        sg, y, w: Shape ``(B, N)``. tau: Shape ``(B, 1)``.
        acc, two_over_acc: ``1 / (s m)`` and its inverse doubled, shape ``(N,)``.

    Returns:
        ``(sg, y, w)`` after ``tau``.
    """
    u = torch.sqrt(w * w + 2.0 * acc * y)
    half = u * two_over_acc  # duration of one excursion
    r = (u - w) / acc + tau
    k = torch.floor(r / half)
    r = r - k * half
    flips = k - 2.0 * torch.floor(0.5 * k)  # k mod 2
    sg = sg * (1.0 - 2.0 * flips)
    return sg, (r * (u - 0.5 * acc * r)).clamp_(min=0.0), u - acc * r
