"""Loss functions (损失函数), as means over the batch, with their gradients.

Predictions and targets are (K, N) with one column per example.  The
``*_grad`` functions and the combined ``bce_with_logits`` / ``mse`` return
the gradient with respect to the predictions (scores), shaped like them.
"""
from __future__ import annotations

import numpy as np

from .activations import sigmoid
from .validate import as_float_array, require_shape


def _scores_and_labels(s, y, fn):
    s = as_float_array(s, "s", fn, ndim=2)
    y = as_float_array(y, "y", fn, ndim=2)
    require_shape(s, (1, None), "s", fn)
    require_shape(y, s.shape, "y", fn)
    return s, y


def binary_cross_entropy(s, y):
    """Binary cross-entropy (二元交叉熵) of scores s against labels y, a mean over the batch.

        J = -(1/N) sum_n [ y_n log y_hat_n + (1 - y_n) log(1 - y_hat_n) ],   y_hat = sigmoid(s)

    (The slides print the second term with a + in front of the bracket; the minus
    belongs to both terms.)  Since log sigmoid(s) = -log(1 + e^-s) and
    log(1 - sigmoid(s)) = -log(1 + e^s), each term is log(1 + e^s) - y s, computed
    with np.logaddexp(0, s): finite for any s, even where y_hat rounds to 0 or 1.
    s: (1, N) scores;  y: (1, N) labels in {0, 1}.  Returns a float.
    """
    s, y = _scores_and_labels(s, y, "binary_cross_entropy")
    return float(np.mean(np.logaddexp(0.0, s) - y * s))


def binary_cross_entropy_grad(s, y):
    """dJ/ds = (sigmoid(s) - y) / N = (y_hat - y) / N.  s, y: (1, N) -> (1, N)."""
    s, y = _scores_and_labels(s, y, "binary_cross_entropy_grad")
    return (sigmoid(s) - y) / s.shape[1]


def bce_with_logits(s, y):
    """(J, dJ/ds) of the binary cross-entropy, for training loops.  s, y: (1, N)."""
    return binary_cross_entropy(s, y), binary_cross_entropy_grad(s, y)


def mse(y_hat, y):
    """Mean squared error J = (1/N) sum_n ||y_hat_n - y_n||^2 / 2 over the N columns.

    y_hat, y: (K, N).  Returns J (float) and dJ/dy_hat = (y_hat - y) / N.
    """
    y_hat = as_float_array(y_hat, "y_hat", "mse", ndim=2)
    y = as_float_array(y, "y", "mse", ndim=2)
    require_shape(y, y_hat.shape, "y", "mse")
    N = y_hat.shape[1]
    return float(0.5 * np.sum((y_hat - y) ** 2) / N), (y_hat - y) / N
