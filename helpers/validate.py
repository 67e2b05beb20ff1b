"""Argument validation shared by every public function of ``helpers``.

Each function raises ``TypeError`` or ``ValueError`` whose message names the
calling function, the argument, what was expected and what was received, e.g.::

    softmax: argument 'z' must be 1-D or 2-D; received shape (2, 3, 4)
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np


def describe(value) -> str:
    """A short description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if value is None:
        return "None"
    return f"{type(value).__name__} {value!r}"[:120]


def as_float_array(value, name: str, fn: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a floating-point ndarray (float inputs keep their dtype).

    Raises TypeError if ``value`` is not numeric (strings, objects, None, bool,
    complex) and ValueError if its number of dimensions is not in ``ndim``.
    """
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged lists
        raise TypeError(f"{fn}: argument '{name}' must be a numeric array; received {describe(value)} ({err})") from None
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(
            f"{fn}: argument '{name}' must be a real numeric array (int or float); "
            f"received {describe(value) if not isinstance(value, np.ndarray) else 'an array'} of dtype {arr.dtype}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            wanted = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{fn}: argument '{name}' must be {wanted}; received shape {arr.shape}")
    return arr


def as_mask(value, name: str, fn: str) -> np.ndarray:
    """A 2-D mask (1 for a real position, 0 for padding) as a float64 array; booleans, integers and floats
    are accepted.  TypeError for anything else, ValueError unless it is 2-D."""
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    return as_float_array(arr, name, fn, ndim=2)


def require_shape(arr: np.ndarray, shape: tuple, name: str, fn: str) -> None:
    """Raise ValueError unless ``arr.shape`` matches ``shape`` (``None`` matches any size)."""
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
    if not ok:
        wanted = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{fn}: argument '{name}' must have shape {wanted}; received shape {arr.shape}")


def require_keys(mapping, keys: Iterable[str], name: str, fn: str) -> None:
    """Raise TypeError unless ``mapping`` is a dict, ValueError if it lacks one of ``keys``."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{fn}: argument '{name}' must be a dict; received {describe(mapping)}")
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ValueError(
            f"{fn}: argument '{name}' is missing key(s) {missing}; expected keys {sorted(keys)}, "
            f"received keys {sorted(mapping)}"
        )


def require_sequence(value, name: str, fn: str) -> list:
    """``value`` as a list; TypeError if it is not a list or tuple."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{fn}: argument '{name}' must be a list or tuple; received {describe(value)}")
    return list(value)


def require_positive_int(value, name: str, fn: str) -> int:
    """``value`` as an int; ValueError unless it is an integer >= 1 (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{fn}: argument '{name}' must be a positive integer; received {value!r}")
    return int(value)


def require_positive_number(value, name: str, fn: str) -> float:
    """``value`` as a float; ValueError unless it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 < value < np.inf:
        raise ValueError(f"{fn}: argument '{name}' must be a positive finite number; received {value!r}")
    return float(value)


def require_split(split, fn: str) -> tuple:
    """Three positive shares summing to 1 (train, dev, test); ValueError otherwise."""
    try:
        shares = tuple(float(s) for s in split)
    except (TypeError, ValueError):
        shares = ()
    if len(shares) != 3 or min(shares) <= 0 or abs(sum(shares) - 1) > 1e-9:
        raise ValueError(f"{fn}: argument 'split' must be three positive shares summing to 1; received {split!r}")
    return shares


def as_generator(rng, fn: str, name: str = "rng") -> np.random.Generator:
    """``rng`` as a Generator: a Generator as it is, an int seed through default_rng, None as seed 0.
    TypeError for anything else (the message names argument ``name`` of function ``fn``)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"{fn}: argument '{name}' must be a numpy.random.Generator, a non-negative int seed or None; "
                    f"received {describe(rng)}")


def float_dtype(dtype, fn: str) -> np.dtype:
    """``dtype`` as a NumPy floating dtype (float32 or float64); TypeError otherwise."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in (np.float32, np.float64):
        raise TypeError(f"{fn}: argument 'dtype' must be float32 or float64; received {dtype!r}")
    return dt
