"""Gradient descent (梯度下降): theta_new = theta_old - alpha * dJ/dtheta."""
from __future__ import annotations

import math
import numbers

from .validate import as_float_array, require_keys


def sgd_step(params, grads, lr):
    """One step of (stochastic) gradient descent, returning new parameters.

    params, grads: dicts with the same keys, each grads[k] shaped like params[k];
    lr: the learning rate alpha > 0.  The arrays of ``params`` are not modified.
    """
    require_keys(grads, list(params), "grads", "sgd_step")
    # any real scalar (np.float32(0.1) too), but not a bool, nan or inf, which would silently ruin params
    if not isinstance(lr, numbers.Real) or isinstance(lr, bool) or not 0 < lr < math.inf:
        raise ValueError(f"sgd_step: argument 'lr' must be a positive finite number; received {lr!r}")
    new = {}
    for key, value in params.items():
        grad = as_float_array(grads[key], f"grads[{key!r}]", "sgd_step")
        if grad.shape != value.shape:
            raise ValueError(f"sgd_step: argument 'grads[{key!r}]' must have shape {value.shape} like "
                             f"params[{key!r}]; received shape {grad.shape}")
        new[key] = value - lr * grad
    return new
