"""Layers with the (out, cache) API: forward returns the output and what backward needs.

An affine layer (仿射层) computes z = W a + b;  a dense layer adds an activation,
a_out = f(W a + b).  Batches are columns: a (n_in, N), W (n_out, n_in), b (n_out, 1).
Backward receives dJ/d(out) and returns (dJ/da, dJ/dW, dJ/db):

    dW = delta a^T,    db = delta summed over the batch (columns),    da = W^T delta

with delta = dJ/dz (for a dense layer, delta = dJ/da_out * f'(z)).
"""
from __future__ import annotations

import numpy as np

from .activations import get_activation
from .validate import as_float_array, require_shape


def affine_forward(a, W, b):
    """z = W a + b.  a: (n_in, N), W: (n_out, n_in), b: (n_out, 1) -> z: (n_out, N), cache."""
    a = as_float_array(a, "a", "affine_forward", ndim=2)
    W = as_float_array(W, "W", "affine_forward", ndim=2)
    b = as_float_array(b, "b", "affine_forward", ndim=2)
    require_shape(W, (None, a.shape[0]), "W", "affine_forward")
    require_shape(b, (W.shape[0], 1), "b", "affine_forward")
    return W @ a + b, (a, W)


def affine_backward(dz, cache):
    """dz = dJ/dz: (n_out, N) -> (da (n_in, N), dW (n_out, n_in), db (n_out, 1))."""
    a, W = cache
    dz = as_float_array(dz, "dz", "affine_backward", ndim=2)
    require_shape(dz, (W.shape[0], a.shape[1]), "dz", "affine_backward")
    return W.T @ dz, dz @ a.T, dz.sum(axis=1, keepdims=True)


def dense_forward(a, W, b, activation="tanh"):
    """a_out = f(W a + b).  Shapes as affine_forward -> a_out: (n_out, N), cache."""
    f, _ = get_activation(activation)
    z, affine_cache = affine_forward(a, W, b)
    return f(z), (affine_cache, z, activation)


def dense_backward(da_out, cache):
    """da_out = dJ/da_out: (n_out, N) -> (da, dW, db); delta = da_out * f'(z)."""
    affine_cache, z, activation = cache
    _, f_grad = get_activation(activation)
    da_out = as_float_array(da_out, "da_out", "dense_backward", ndim=2)
    require_shape(da_out, z.shape, "da_out", "dense_backward")
    return affine_backward(da_out * f_grad(z), affine_cache)
