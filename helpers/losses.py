"""Loss functions (损失函数), as means over the batch, each with its gradient.

Every loss returns ``(J, dJ/dinput)`` where the input has the shape of the
predictions, batch along the last axis (columns).
"""
from __future__ import annotations

import numpy as np

from .validate import as_float_array, require_shape


def bce_with_logits(s, y):
    """Binary cross-entropy J = -(1/N) sum [y log y_hat + (1-y) log(1-y_hat)], y_hat = sigmoid(s).

    s: (1, N) scores (logits);  y: (1, N) labels in {0, 1}.
    Computed from s as J = mean(logaddexp(0, s) - y s), finite for any s.
    Returns J (float) and dJ/ds = (sigmoid(s) - y) / N, shape (1, N).
    """
    from .activations import sigmoid
    s = as_float_array(s, "s", "bce_with_logits", ndim=2)
    y = as_float_array(y, "y", "bce_with_logits", ndim=2)
    require_shape(y, s.shape, "y", "bce_with_logits")
    N = s.shape[1]
    J = float(np.mean(np.logaddexp(0.0, s) - y * s))
    return J, (sigmoid(s) - y) / N


def mse(y_hat, y):
    """Mean squared error J = (1/N) sum_n ||y_hat_n - y_n||^2 / 2 over the N columns.

    y_hat, y: (K, N).  Returns J (float) and dJ/dy_hat = (y_hat - y) / N.
    """
    y_hat = as_float_array(y_hat, "y_hat", "mse", ndim=2)
    y = as_float_array(y, "y", "mse", ndim=2)
    require_shape(y, y_hat.shape, "y", "mse")
    N = y_hat.shape[1]
    return float(0.5 * np.sum((y_hat - y) ** 2) / N), (y_hat - y) / N
