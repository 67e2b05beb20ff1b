"""Activation functions (激活函数) and their derivatives.

Every function works elementwise on an array ``z`` of pre-activations of any
shape, except ``softmax`` and ``log_softmax``, which normalise each *column*
(one column per example, shape (C, N)) and also accept a single vector (C,).

Each ``*_grad(z)`` returns the derivative f'(z) evaluated at the
pre-activation ``z``, not at the activation f(z).  Float inputs keep their
dtype; integer inputs are computed in float64.
"""
from __future__ import annotations

import numpy as np

from .validate import as_float_array


def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), exact and warning-free for any finite z.

    exp is only ever taken of -|z| <= 0, so it cannot overflow:
    sigma(z) = 1/(1+e) for z >= 0 and e/(1+e) for z < 0, with e = exp(-|z|).
    z: any shape -> same shape.
    """
    z = as_float_array(z, "z", "sigmoid")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_grad(z):
    """sigma'(z) = sigma(z) * (1 - sigma(z)).  z: any shape -> same shape.

    Computed as sigma(z) * sigma(-z), which equals the above because
    1 - sigma(z) = sigma(-z), and keeps full precision where sigma(z) is near 1.
    """
    z = as_float_array(z, "z", "sigmoid_grad")
    return sigmoid(z) * sigmoid(-z)


def tanh(z):
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z).  z: any shape -> same shape."""
    return np.tanh(as_float_array(z, "z", "tanh"))


def tanh_grad(z):
    """tanh'(z) = 1 - tanh(z)^2.  z: any shape -> same shape."""
    return 1.0 - np.tanh(as_float_array(z, "z", "tanh_grad")) ** 2


def relu(z):
    """ReLU(z) = max(z, 0).  z: any shape -> same shape."""
    z = as_float_array(z, "z", "relu")
    return np.maximum(z, 0.0).astype(z.dtype, copy=False)


def relu_grad(z):
    """ReLU'(z) = 1 where z > 0, else 0 (we take ReLU'(0) = 0).  z: any shape -> same shape."""
    z = as_float_array(z, "z", "relu_grad")
    return (z > 0).astype(z.dtype)


def identity(z):
    """The 'no activation' f(z) = z, for comparisons.  z: any shape -> same shape."""
    return as_float_array(z, "z", "identity").copy()


def identity_grad(z):
    """f'(z) = 1.  z: any shape -> same shape."""
    return np.ones_like(as_float_array(z, "z", "identity_grad"))


def _shifted(z, fn):
    """z minus each column's max, so the largest logit of every column is 0.  (C,) or (C, N)."""
    z = as_float_array(z, "z", fn, ndim=(1, 2))
    if z.shape[0] == 0:
        raise ValueError(f"{fn}: argument 'z' needs at least one class (row); received shape {z.shape}")
    return z - z.max(axis=0, keepdims=True)


def softmax(z):
    """softmax(z)_c = exp(z_c) / sum_k exp(z_k), over each column.

    z: (C,) or (C, N) logits -> same shape, every column sums to 1.
    Subtracting the column max first leaves the result unchanged and keeps
    exp from overflowing, so logits of magnitude 1e4 are fine.
    """
    e = np.exp(_shifted(z, "softmax"))
    return e / e.sum(axis=0, keepdims=True)


def log_softmax(z):
    """log softmax(z) = z - max - log sum exp(z - max), over each column.

    z: (C,) or (C, N) -> same shape.  Finite even where softmax underflows to 0.
    """
    s = _shifted(z, "log_softmax")
    return s - np.log(np.exp(s).sum(axis=0, keepdims=True))


#: name -> (f, f') for plots, widgets and models.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "identity": (identity, identity_grad),
}


def get_activation(name):
    """(f, f') for an activation name in ``ACTIVATIONS``, or a pair (f, f') of functions given directly
    (your own, for instance), returned as it is."""
    if isinstance(name, tuple) and len(name) == 2 and all(callable(g) for g in name):
        return name
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"get_activation: argument 'name' must be one of {sorted(ACTIVATIONS)}; received {name!r}")
    return ACTIVATIONS[name]
