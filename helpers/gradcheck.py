"""Gradient checking (梯度检验) by central finite differences.

    dJ/dx_i  ~  (J(x + h e_i) - J(x - h e_i)) / (2h)

The central difference is accurate to O(h^2) (the one-sided difference only to
O(h)), so with h = 1e-5 in float64 a correct analytic gradient agrees to a
relative error of about 1e-7 or better, and a wrong one is off by far more.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .validate import as_float_array, describe, require_keys


def numerical_gradient(f, x, h: float = 1e-5):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    f: callable, f(x) -> scalar.
    x: float ndarray of any shape, or a dict of them (e.g. parameters).  Each
       element is perturbed in place, f(x) is called, and the element is restored.
    Returns a float64 array shaped like ``x``, or a dict with the same keys.
    """
    if not callable(f):
        raise TypeError(f"numerical_gradient: argument 'f' must be callable; received {describe(f)}")
    if isinstance(x, Mapping):
        return {key: _partials(f, x, x[key], h, f"x[{key!r}]") for key in x}
    return _partials(f, x, x, h, "x")


def _partials(f, x, arr, h, name):
    """dJ/d arr by central differences, where f(x) reads ``arr`` (x or one of its values)."""
    if not isinstance(arr, np.ndarray) or not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"numerical_gradient: argument '{name}' must be a float ndarray (it is perturbed "
                        f"in place); received {describe(arr)}")
    grad = np.zeros(arr.shape)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + h
        f_plus = float(f(x))
        arr[i] = old - h
        f_minus = float(f(x))
        arr[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b, eps: float = 1e-12):
    """Elementwise |a - b| / max(|a| + |b|, eps): 0 when equal, 1 when opposite.  Any shape."""
    a = as_float_array(a, "a", "relative_error").astype(np.float64, copy=False)
    b = as_float_array(b, "b", "relative_error").astype(np.float64, copy=False)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: arguments 'a' and 'b' must have the same shape; "
                         f"received {a.shape} and {b.shape}")
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)


@dataclass
class GradcheckReport:
    """The worst element of a gradient check."""

    max_rel_error: float
    key: str | None  # the parameter name when the gradient is a dict, else None
    index: tuple
    numeric: float
    analytic: float
    tol: float

    @property
    def passed(self) -> bool:
        return self.max_rel_error <= self.tol

    def __str__(self) -> str:
        where = f"{self.key}{list(self.index)}" if self.key is not None else f"{list(self.index)}"
        verdict = "ok" if self.passed else "FAILED"
        return (f"gradient check {verdict}: max relative error {self.max_rel_error:.2e} (tolerance {self.tol:.0e}) "
                f"at {where}: numeric {self.numeric:.8g}, analytic {self.analytic:.8g}")


def gradcheck(f, x, analytic, h: float = 1e-5, tol: float = 1e-6) -> GradcheckReport:
    """Compare an analytic gradient with the central-difference one.

    f: callable, f(x) -> scalar.  x: array or dict of arrays.
    analytic: dJ/dx, shaped like ``x`` (a dict with the same keys when x is a dict).
    Returns a GradcheckReport for the element with the largest relative error;
    ``report.passed`` says whether it is within ``tol``.

    The relative error of an element is |a - n| / max(|a| + |n|, floor) with floor
    = 1e-2 times the largest |n| of the whole gradient: rounding leaves every central
    difference with an absolute error of about 1e-10 * |f| / h, which is a large relative
    error on an element near 0 but not a mistake.  A nan or inf gradient never passes.
    """
    numeric = numerical_gradient(f, x, h)
    if isinstance(x, Mapping):
        require_keys(analytic, list(x), "analytic", "gradcheck")
        pairs = {key: (numeric[key], analytic[key]) for key in x}
    else:
        pairs = {None: (numeric, analytic)}
    floor = max(1e-2 * max((float(np.abs(n).max(initial=0.0)) for n, _ in pairs.values()), default=0.0), 1e-12)
    worst = None
    for key, (num, ana) in pairs.items():
        name = "analytic" if key is None else f"analytic[{key!r}]"
        ana = as_float_array(ana, name, "gradcheck").astype(np.float64, copy=False)
        if ana.shape != num.shape:
            raise ValueError(f"gradcheck: argument '{name}' must have shape {num.shape}; received shape {ana.shape}")
        if num.size == 0:
            continue
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.where(np.isfinite(ana), relative_error(num, ana, eps=floor), np.inf)
        i = np.unravel_index(np.argmax(err), err.shape)
        if worst is None or err[i] > worst.max_rel_error:
            worst = GradcheckReport(float(err[i]), key, tuple(int(j) for j in i), float(num[i]), float(ana[i]), tol)
    return worst or GradcheckReport(0.0, None, (), 0.0, 0.0, tol)
