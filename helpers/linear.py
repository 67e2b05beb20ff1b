"""Affine maps (仿射变换): why a network needs a nonlinearity and a bias.

An affine layer computes z = W a + b with W of shape (n_l, n_{l-1}) and b of
shape (n_l, 1), acting on a batch a of shape (n_{l-1}, N) (one column per
example).  Without an activation between them, layers compose into a single
affine map, so depth adds nothing; without b, every map sends 0 to 0.
"""
from __future__ import annotations

import numpy as np

from .validate import as_float_array, require_sequence, require_shape


def collapse_linear(Ws, bs):
    """The single affine map (W, b) equal to a stack of affine layers without activations.

    Ws: [W^1, ..., W^L], W^l of shape (n_l, n_{l-1});  bs: [b^1, ..., b^L], b^l of shape (n_l, 1).
    Applying z^l = W^l z^{l-1} + b^l for l = 1..L to x equals W x + b with
        W = W^L ... W^2 W^1                      shape (n_L, n_0)
        b = W^L ... W^2 b^1 + ... + W^L b^{L-1} + b^L    shape (n_L, 1)
    """
    Ws, bs = require_sequence(Ws, "Ws", "collapse_linear"), require_sequence(bs, "bs", "collapse_linear")
    if not Ws or len(Ws) != len(bs):
        raise ValueError(f"collapse_linear: arguments 'Ws' and 'bs' must be non-empty lists of equal length; "
                         f"received {len(Ws)} weights and {len(bs)} biases")
    W, b = None, None
    for l, (Wl, bl) in enumerate(zip(Ws, bs), start=1):
        Wl = as_float_array(Wl, f"Ws[{l - 1}]", "collapse_linear", ndim=2)
        bl = as_float_array(bl, f"bs[{l - 1}]", "collapse_linear", ndim=2)
        require_shape(Wl, (None, Wl.shape[1] if W is None else W.shape[0]), f"Ws[{l - 1}]", "collapse_linear")
        require_shape(bl, (Wl.shape[0], 1), f"bs[{l - 1}]", "collapse_linear")
        W, b = (Wl, bl) if W is None else (Wl @ W, Wl @ b + bl)
    return W.copy(), b.copy()


def fit_affine(X, y, use_bias=True):
    """Least-squares fit of y ~ W x + b (最小二乘), optionally with b fixed at 0.

    X: (D, N) inputs, one column per point;  y: (1, N) targets.
    Returns W of shape (1, D) and b of shape (1, 1), minimising
    sum_n (W x_n + b - y_n)^2.  With use_bias=False, b is 0 and the fitted
    line (plane) is forced through the origin.
    """
    X = as_float_array(X, "X", "fit_affine", ndim=2)
    y = as_float_array(y, "y", "fit_affine", ndim=2)
    require_shape(y, (1, X.shape[1]), "y", "fit_affine")
    if not isinstance(use_bias, (bool, np.bool_)):
        raise TypeError(f"fit_affine: argument 'use_bias' must be True or False; received {use_bias!r}")
    A = np.vstack([X, np.ones((1, X.shape[1]))]) if use_bias else X  # (D+1, N) or (D, N)
    theta = np.linalg.lstsq(A.T, y.T, rcond=None)[0].T  # (1, D+1) or (1, D)
    W = theta[:, :X.shape[0]]
    b = theta[:, X.shape[0]:] if use_bias else np.zeros((1, 1))
    return W, b
