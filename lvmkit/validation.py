"""Checks at lvmkit's public boundary, shared by every module.

Each check raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError`` (wrong
shape, size or value) with a message that names the argument, says what was expected
and shows what was given, e.g. ``images must have shape (B, 64), got shape (10, 63)``.
The checks are cheap: at most one ``isfinite`` pass over an array, never a copy of a
valid float32/float64 tensor, and they never change a valid input.

* :func:`as_float_tensor`: a float32/float64 ``torch.Tensor`` of a given shape, finite,
  not empty (integer, bool and float16 tensors are refused: they would silently lose
  precision or gradients).
* :func:`as_float_array`: the NumPy counterpart (any real dtype, returned as float64).
* :func:`check_positive`, :func:`check_nonnegative`, :func:`check_probability`,
  :func:`check_int`: scalars.
* :func:`check_same_device`, :func:`check_same_dtype`: tensors that meet in one
  computation.
* :func:`check_gram`: a precomputed Gram matrix ``A^T A`` agrees with ``A``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "FLOAT_DTYPES",
    "as_data_batch",
    "as_float_array",
    "as_float_tensor",
    "as_model_data",
    "as_numpy_generator",
    "check_callable",
    "check_choice",
    "check_generator",
    "check_gram",
    "check_int",
    "check_int_sizes",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_same_device",
    "check_same_dtype",
    "describe",
]

#: Tensor dtypes accepted where lvmkit computes densities or gradients.
FLOAT_DTYPES = (torch.float32, torch.float64)

Shape = Sequence[int | str | None]


def describe(value) -> str:
    """A short description of ``value`` for error messages (type, shape and dtype)."""
    if torch.is_tensor(value):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if not isinstance(
        value, (bool, int, float, complex, str, bytes, list, tuple, dict, type(None))
    ):  # objects: their type (a repr may hold an address)
        return f"a {type(value).__module__}.{type(value).__qualname__}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _shape_text(shape: Shape) -> str:
    parts = ["..." if s is Ellipsis else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _check_shape(
    name: str,
    got: tuple[int, ...],
    ndim: int | Sequence[int] | None,
    shape: Shape | None,
    min_rows: int,
) -> None:
    if shape is not None:
        if shape and shape[0] is Ellipsis:  # (..., P): at least len(shape) - 1 dims
            tail = list(shape[1:])
            ok = len(got) >= max(len(tail), 1) and all(
                isinstance(s, str) or s is None or g == s
                for s, g in zip(tail, got[len(got) - len(tail) :], strict=True)
            )
        else:
            ok = len(got) == len(shape) and all(
                isinstance(s, str) or s is None or g == s
                for s, g in zip(shape, got, strict=True)
            )
        if not ok:
            raise ValueError(
                f"{name} must have shape {_shape_text(shape)}, got shape {got}"
            )
    elif ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(got) not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {got}")
    if math.prod(got) == 0:
        raise ValueError(f"{name} must not be empty, got shape {got}")
    if min_rows > 1 and (len(got) == 0 or got[0] < min_rows):
        raise ValueError(f"{name} must have at least {min_rows} rows, got shape {got}")


def as_float_tensor(
    name: str,
    value,
    *,
    dtype: torch.dtype | None = None,
    ndim: int | Sequence[int] | None = None,
    shape: Shape | None = None,
    min_rows: int = 1,
    finite: bool = True,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Return ``value`` as a floating-point tensor after checking it.

    Args:
        name: The argument's name, used in the error message.
        value: A ``torch.Tensor`` (float32 or float64), a NumPy array of a real dtype
            other than float16, or nested Python numbers.
        dtype: Convert to this dtype after the checks (``None``: keep a tensor's dtype;
            other inputs become the default dtype).
        ndim: Allowed number(s) of dimensions.
        shape: Expected shape; ``int`` entries must match, ``str`` or ``None`` are free
            (named for the message), a leading ``...`` allows any batch dimensions.
        min_rows: Minimum size of the first axis.
        finite: Refuse NaN and infinities.
        device: The device the tensor must already be on (no silent transfer).

    Raises:
        TypeError: Not a tensor or array of numbers, or an integer, bool, complex or
            float16 tensor.
        ValueError: Wrong shape, empty, fewer rows than ``min_rows``, non-finite,
            or on another device.
    """
    if torch.is_tensor(value):
        if value.dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{name} must be a float32 or float64 tensor, got {describe(value)}"
            )
        t = value
    elif isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiu" or value.dtype == np.float16:
            raise TypeError(
                f"{name} must be an array of real numbers (not float16), got "
                f"{describe(value)}"
            )
        t = torch.from_numpy(
            np.asarray(
                value, dtype=np.float64 if value.dtype.kind in "iu" else value.dtype
            )
        )
    elif isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(
            f"{name} must be a tensor or an array of numbers, got {describe(value)}"
        )
    else:
        try:
            t = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(
                f"{name} must be a tensor or an array of numbers, got {describe(value)}"
            ) from err
        if t.dtype == torch.bool or t.is_complex():
            raise TypeError(f"{name} must hold real numbers, got {describe(value)}")
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
    if device is not None and t.device != torch.device(device):
        raise ValueError(f"{name} must be on device {device}, got {t.device}")
    _check_shape(name, tuple(t.shape), ndim, shape, min_rows)
    if dtype is not None and t.dtype != dtype:
        t = t.to(dtype)
    if finite and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite (no NaN or Inf), got {_bad_count(t)}")
    return t


def _bad_count(t) -> str:
    bad = ~(torch.isfinite(t) if torch.is_tensor(t) else np.isfinite(t))
    total = bad.size if isinstance(bad, np.ndarray) else bad.numel()
    return f"{int(bad.sum())} non-finite of {total}"


def as_float_array(
    name: str,
    value,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Shape | None = None,
    min_rows: int = 1,
    finite: bool = True,
) -> np.ndarray:
    """Return ``value`` as a float64 NumPy array after checking it.

    Accepts real NumPy arrays (any integer or float dtype), float tensors (detached and
    moved to the CPU) and nested Python numbers. Arguments as for
    :func:`as_float_tensor`.
    """
    if torch.is_tensor(value):
        if not (
            value.is_floating_point()
            or value.dtype in (torch.int32, torch.int64, torch.uint8, torch.int16)
        ):
            raise TypeError(
                f"{name} must be a tensor of real numbers, got {describe(value)}"
            )
        a = value.detach().cpu().numpy()
    elif isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {describe(value)}")
    else:
        try:
            a = np.asarray(value)
        except (TypeError, ValueError) as err:  # ragged nested sequences
            raise TypeError(
                f"{name} must be an array of numbers, got {describe(value)}"
            ) from err
        if a.dtype.kind not in "fiu":
            raise TypeError(
                f"{name} must be an array of real numbers, got {describe(value)}"
            )
    a = a.astype(np.float64, copy=False)
    _check_shape(name, a.shape, ndim, shape, min_rows)
    if finite and not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or Inf), got {_bad_count(a)}")
    return a


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(
        value, (numbers.Real, np.ndarray, torch.Tensor)
    ):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    if isinstance(value, (np.ndarray, torch.Tensor)):
        if math.prod(value.shape) != 1:
            raise TypeError(f"{name} must be a real number, got {describe(value)}")
        value = value.item()
    return float(value)


def check_positive(name: str, value) -> float:
    """Return ``float(value)``; raise unless it is a finite number > 0."""
    v = _real(name, value)
    if not (v > 0 and v < math.inf):
        raise ValueError(f"{name} must be a finite number > 0, got {v}")
    return v


def check_nonnegative(name: str, value) -> float:
    """Return ``float(value)``; raise unless it is a finite number >= 0."""
    v = _real(name, value)
    if not (v >= 0 and v < math.inf):
        raise ValueError(f"{name} must be a finite number >= 0, got {v}")
    return v


def check_probability(
    name: str, value, *, open_low: bool = False, open_high: bool = False
) -> float:
    """Return ``float(value)``; raise unless it lies in [0, 1] (ends open if asked)."""
    v = _real(name, value)
    lo_ok = v > 0 if open_low else v >= 0
    hi_ok = v < 1 if open_high else v <= 1
    if not (lo_ok and hi_ok):
        interval = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
        raise ValueError(f"{name} must be a probability in {interval}, got {v}")
    return v


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``int(value)``; raise unless it is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(
        value, (numbers.Integral, numbers.Real)
    ):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    if not (math.isfinite(value) and int(value) == value):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        if high is None:
            want = {0: "a non-negative integer", 1: "a positive integer"}.get(
                low, f"an integer >= {low}"
            )
        else:
            want = f"an integer in [{'-inf' if low is None else low}, {high}]"
        raise ValueError(f"{name} must be {want}, got {v}")
    return v


def check_same_device(**tensors: torch.Tensor | None) -> None:
    """Raise ``ValueError`` unless all the given tensors (``None`` skipped) share a device."""
    devices = {name: t.device for name, t in tensors.items() if torch.is_tensor(t)}
    if len(set(devices.values())) > 1:
        listed = ", ".join(f"{n} on {d}" for n, d in devices.items())
        raise ValueError(f"tensors must be on the same device, got {listed}")


def check_same_dtype(**tensors: torch.Tensor | None) -> None:
    """Raise ``TypeError`` unless all the given tensors (``None`` skipped) share a dtype.

    The first one named is the reference: mixing float32 and float64 in one computation
    fails inside torch with a bare ``RuntimeError`` (or silently promotes).
    """
    dtypes = {name: t.dtype for name, t in tensors.items() if torch.is_tensor(t)}
    if len(set(dtypes.values())) > 1:
        (first, want), *rest = dtypes.items()
        name, got = next((n, d) for n, d in rest if d != want)
        raise TypeError(f"{name} must have the dtype of {first} ({want}), got {got}")


def check_gram(
    name: str, gram: torch.Tensor, A: torch.Tensor, *, n_probe: int = 3
) -> None:
    r"""Raise ``ValueError`` unless ``gram`` is ``A^T A`` to within rounding.

    Cheap: ``gram v`` against ``A^T (A v)`` for ``n_probe`` fixed pseudo-random vectors
    (a private generator: the global RNG is untouched), ``O(n_probe P N)``, plus the
    symmetry of ``gram`` on the same vectors. The tolerance is relative and set by the
    dtype: ``|gram v - A^T A v| <= sqrt(eps) (|A|_F^2 |v| + |gram v|)`` with ``eps`` the
    machine epsilon of the lower-precision dtype of the two (rounding is about
    ``eps P``; a Gram matrix of another dictionary, or scaled, misses by O(1)).
    """
    dt = torch.promote_types(gram.dtype, A.dtype)
    eps = max(torch.finfo(gram.dtype).eps, torch.finfo(A.dtype).eps)
    G, A = gram.to(dt), A.to(dt)
    V = torch.randn(
        G.shape[0], n_probe, generator=torch.Generator().manual_seed(0), dtype=dt
    ).to(G.device)
    GV, ref = G @ V, A.T @ (A @ V)
    scale = (A * A).sum() * V.norm(dim=0) + GV.norm(dim=0)
    err = (GV - ref).norm(dim=0)
    asym = (G.T @ V - GV).norm(dim=0)
    rel = float((torch.maximum(err, asym) / scale).max())
    if not rel <= eps**0.5:  # also NaN
        raise ValueError(
            f"{name} must equal A^T A of the dictionary A (to rounding, relative "
            f"{eps**0.5:.1e}), got a relative difference of {rel:.3g}"
        )


def check_distribution(name: str, value) -> torch.distributions.Distribution:
    """``value`` itself, if it is a ``torch.distributions.Distribution``."""
    if not isinstance(value, torch.distributions.Distribution):
        raise TypeError(
            f"{name} must be a torch.distributions.Distribution, got {describe(value)}"
        )
    return value


def check_callable(name: str, value) -> None:
    """``value`` must be callable (a function, a rule, a log density)."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {describe(value)}")


def check_generator(name: str, generator, *, required: bool = False) -> None:
    """``generator`` must be a ``torch.Generator`` (or ``None`` unless ``required``).

    The one type of randomness in lvmkit's torch code (CONTRIBUTING.md, *Randomness*).
    """
    if generator is None and not required:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator, got {describe(generator)}")


def check_choice(name: str, value, choices: tuple) -> object:
    """``value`` must be one of ``choices`` (an option given by name)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_int_sizes(**sizes: int) -> None:
    """Every keyword a layer size: an integer >= 1 (``check_int_sizes(n_pixels=P, ...)``)."""
    for name, v in sizes.items():
        check_int(name, v, 1)


def as_data_batch(name: str, x, n_pixels: int | None = None) -> torch.Tensor:
    """A batch of observations at the public boundary: a finite float32/64 tensor of
    shape ``(B, P)`` (``P = n_pixels`` where given)."""
    if not torch.is_tensor(x):
        raise TypeError(
            f"{name} must be a tensor of shape (B, {n_pixels or 'P'}), got "
            f"{describe(x)}"
        )
    return as_float_tensor(name, x, shape=("B", n_pixels or "P"))


def _reference_tensor(model) -> torch.Tensor | None:
    """A tensor of the model's (dtype, device): its prior's mean, else a parameter."""
    if getattr(model, "n_latents", 0):
        return model.prior().mean
    inner = getattr(model, "model", model)  # e.g. a ScrambledModel wraps its model
    params = getattr(inner, "parameters", None)
    return next(iter(params()), None) if callable(params) else None


def as_model_data(model, x, name: str = "x") -> torch.Tensor:
    """Data for a latent model (the protocol of :mod:`lvmkit.models`): ``x`` of shape
    ``(B, P)`` (``P = model.n_pixels`` where known), finite, on the model's device and of
    its dtype (mixed float32/float64 fails deep in torch otherwise)."""
    ref = _reference_tensor(model)
    if torch.is_tensor(x) and ref is not None:
        check_same_device(**{name: x, "model": ref})
    x = as_data_batch(name, x, getattr(model, "n_pixels", None))
    if ref is not None and x.dtype != ref.dtype:
        raise TypeError(
            f"{name} must have the model's dtype {ref.dtype}, got {x.dtype} "
            f"(convert with .to({ref.dtype}) or the model with .double()/.float())"
        )
    return x


def as_numpy_generator(name: str, generator) -> np.random.Generator:
    """``generator`` must be a ``numpy.random.Generator`` (the NumPy-based modules: the
    tree world, the mixtures); returned as it is."""
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None:
        raise ValueError(
            f"pass {name}= (a numpy.random.Generator) for reproducible draws"
        )
    raise ValueError(
        f"{name} must be a numpy.random.Generator, got {type(generator).__name__}"
    )
