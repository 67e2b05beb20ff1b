"""A multilayer perceptron (多层感知机) in the lecture's notation, with backpropagation.

    a^0 = x,   z^l = W^l a^{l-1} + b^l,   a^l = f_l(z^l)        l = 1..L

Hidden layers use ``activation``, the last layer ``output`` ("identity" by
default, so that a^L is a vector of scores).  With ``residual=True`` a hidden
layer whose input and output sizes agree adds its input: a^l = a^{l-1} + f(z^l)
(He et al. 2015).  Parameters are a dict {"W1", "b1", ..., "WL", "bL"} with W^l
of shape (n_l, n_{l-1}) and b^l of shape (n_l, 1); batches are N columns.

The backward pass is the lecture's four equations, with delta^l = dJ/dz^l:

    delta^L = grad_{a^L} J * f'(z^L)
    delta^l = ((W^{l+1})^T delta^{l+1}) * f'(z^l)
    dJ/dW^l = delta^l (a^{l-1})^T
    dJ/db^l = delta^l, summed over the batch
"""
from __future__ import annotations

import numpy as np

from .activations import get_activation
from .layers import affine_forward
from .losses import bce_with_logits, mse
from .validate import as_float_array, require_keys, require_positive_int, require_positive_number, require_shape


def init_mlp(sizes, seed=0, gain=1.0):
    """Parameters for layer sizes [n_0, n_1, ..., n_L]: W^l ~ N(0, gain^2 / n_{l-1}), b^l = 0.

    gain = 1 keeps the variance of a linear (or tanh, near 0) layer's output equal to
    its input's; ReLU zeroes half of its inputs, and gain = sqrt(2) (He et al. 2015)
    makes up for it.
    """
    if (not isinstance(sizes, (list, tuple)) or len(sizes) < 2
            or not all(isinstance(n, (int, np.integer)) and n >= 1 for n in sizes)):
        raise ValueError(f"init_mlp: argument 'sizes' must list at least two positive layer sizes; received {sizes}")
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = rng.normal(scale=gain / np.sqrt(n_in), size=(n_out, n_in))
        params[f"b{l}"] = np.zeros((n_out, 1))
    return params


def num_layers(params, fn: str = "num_layers") -> int:
    """L, the number of affine layers in ``params`` (a dict with keys W1, b1, ..., WL, bL)."""
    require_keys(params, ["W1", "b1"], "params", fn)
    L = sum(1 for k in params if str(k).startswith("W"))
    require_keys(params, [f"{p}{l}" for l in range(1, L + 1) for p in "Wb"], "params", fn)
    return L


def _check_params(params, L, fn):
    """The parameters as float arrays; raise unless every W^l is (n_l, n_{l-1}), fitting W^{l-1},
    and every b^l is (n_l, 1)."""
    arrays, n_prev = {}, None
    for l in range(1, L + 1):
        W = as_float_array(params[f"W{l}"], f"params['W{l}']", fn, ndim=2)
        b = as_float_array(params[f"b{l}"], f"params['b{l}']", fn, ndim=2)
        require_shape(W, (None, n_prev), f"params['W{l}']", fn)
        require_shape(b, (W.shape[0], 1), f"params['b{l}']", fn)
        arrays[f"W{l}"], arrays[f"b{l}"], n_prev = W, b, W.shape[0]
    return arrays


def mlp_forward(params, X, activation="tanh", output="identity", residual=False):
    """Forward pass.  X: (n_0, N) -> a^L: (n_L, N), and a cache for mlp_backward.

    The cache is a dict indexed like the lecture: cache["a"][l] = a^l (l = 0..L),
    cache["z"][l] = z^l (l = 1..L; cache["z"][0] is None), cache["f"][l] the name
    of f_l, cache["skip"][l] whether layer l adds its input, and cache["params"].
    """
    L = num_layers(params, "mlp_forward")
    params = _check_params(params, L, "mlp_forward")
    a = as_float_array(X, "X", "mlp_forward", ndim=2)
    require_shape(a, (np.shape(params["W1"])[1], None), "X", "mlp_forward")
    get_activation(activation), get_activation(output)  # unknown names raise here, even if unused
    names = [None] + [activation] * (L - 1) + [output]
    cache = {"params": params, "a": [a], "z": [None], "f": names, "skip": [False]}
    for l in range(1, L + 1):
        z, _ = affine_forward(a, params[f"W{l}"], params[f"b{l}"])  # z^l = W^l a^{l-1} + b^l
        f, _ = get_activation(names[l])
        skip = bool(residual) and l < L and z.shape == a.shape
        a = a + f(z) if skip else f(z)
        for key, value in (("z", z), ("a", a), ("skip", skip)):
            cache[key].append(value)
    return a, cache


def mlp_backward(dout, cache):
    """Backward pass, the four equations.  dout = grad_{a^L} J: (n_L, N) -> dict of gradients."""
    params, a, z, names, skip = (cache[k] for k in ("params", "a", "z", "f", "skip"))
    L = len(z) - 1
    da = as_float_array(dout, "dout", "mlp_backward", ndim=2)  # dJ/da^L
    require_shape(da, a[L].shape, "dout", "mlp_backward")
    grads = {}
    for l in range(L, 0, -1):
        delta = da * get_activation(names[l])[1](z[l])             # delta^l = dJ/da^l * f'(z^l)
        grads[f"W{l}"] = delta @ a[l - 1].T                         # dJ/dW^l = delta^l (a^{l-1})^T
        grads[f"b{l}"] = delta.sum(axis=1, keepdims=True)           # dJ/db^l = delta^l, summed over N
        da = params[f"W{l}"].T @ delta + (da if skip[l] else 0.0)   # dJ/da^{l-1} = (W^l)^T delta^l
    return grads


LOSSES = {"bce": bce_with_logits, "mse": mse}


def train_mlp(X, Y, sizes, activation="tanh", loss="bce", steps=2000, lr=0.5, seed=0):
    """Full-batch gradient descent theta <- theta - lr * dJ/dtheta, with a linear output layer.

    X: (n_0, N), Y: (n_L, N) with labels in {0, 1} for loss="bce" (on the scores) or targets for "mse".
    Returns (params, losses) with losses the J of each step, shape (steps,).
    """
    if loss not in LOSSES:
        raise ValueError(f"train_mlp: argument 'loss' must be one of {sorted(LOSSES)}; received {loss!r}")
    steps = require_positive_int(steps, "steps", "train_mlp")
    require_positive_number(lr, "lr", "train_mlp")
    params = init_mlp(sizes, seed)
    history = np.empty(steps)
    for step in range(steps):
        out, cache = mlp_forward(params, X, activation)
        history[step], dout = LOSSES[loss](out, Y)
        for key, grad in mlp_backward(dout, cache).items():
            params[key] -= lr * grad
    return params, history
