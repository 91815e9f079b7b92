r"""The lasso, ``min_x 1/2 |I - A x|^2 + lambda |x|_1``, for a batch of images at once.

The MAP of :class:`~lvmkit.models.SparseLinearGaussian` with ``alpha = 1``
(``lambda = sigma^2 / s``). Which file holds what:

* :mod:`~lvmkit.lasso.core`: the objective, the optimality certificate
  (:func:`kkt_violation`) and the result types; imports no solver.
* :mod:`~lvmkit.lasso.fista`: :func:`fista`, FISTA with adaptive restart (approximate).
* :mod:`~lvmkit.lasso.active_set`: :func:`lasso_active_set`, batched feature-sign
  search (exact, pure torch, any device).
* :mod:`~lvmkit.lasso.homotopy`: :func:`lasso_homotopy`, the LARS-lasso path in
  compiled code (exact, CPU).
* :mod:`~lvmkit.lasso.solve`: :func:`lasso`, the front door (``solver="auto"``).

The imports run one way only: ``core`` <- ``fista`` <- ``active_set`` <- ``homotopy``
<- ``solve`` (checked by an import-linter contract).
"""

from lvmkit.lasso.active_set import lasso_active_set
from lvmkit.lasso.core import (
    FistaResult,
    LassoResult,
    certificate_threshold,
    kkt_violation,
    lasso_objective,
)
from lvmkit.lasso.fista import fista
from lvmkit.lasso.homotopy import lasso_homotopy
from lvmkit.lasso.solve import lasso

__all__ = [
    "FistaResult",
    "LassoResult",
    "certificate_threshold",
    "fista",
    "kkt_violation",
    "lasso",
    "lasso_active_set",
    "lasso_homotopy",
    "lasso_objective",
]
