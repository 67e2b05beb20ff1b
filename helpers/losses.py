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


def softmax_cross_entropy(scores, targets):
    """Cross-entropy of softmax(scores) against target classes, a mean over the batch.

        J = -(1/N) sum_n log softmax(scores[:, n])[targets[n]]
        dJ/dscores = (softmax(scores) - onehot(targets)) / N

    scores: (C, N) logits, one column per example;  targets: (N,) int class ids.
    Returns J (float) and dJ/dscores (C, N).  Stable for logits of any size (log-softmax).
    """
    from .activations import log_softmax
    scores = as_float_array(scores, "scores", "softmax_cross_entropy", ndim=2)
    targets = np.asarray(targets)
    if targets.shape != (scores.shape[1],) or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"softmax_cross_entropy: argument 'targets' must be {scores.shape[1]} integer class ids, "
                         f"shape ({scores.shape[1]},); received {targets.dtype} array of shape {targets.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= scores.shape[0]):
        raise ValueError(f"softmax_cross_entropy: argument 'targets' must hold ids in [0, {scores.shape[0]}); "
                         f"received ids from {targets.min()} to {targets.max()}")
    N, columns = scores.shape[1], np.arange(scores.shape[1])
    if scores.shape[0] == 0:
        log_softmax(scores)  # raises its error about a column without classes
    # one temporary, exp taken once: the LM's output layer makes scores large (V x T N)
    grad = scores - scores.max(axis=0, keepdims=True)       # log softmax = shifted - log sum exp(shifted)
    picked = grad[targets, columns]
    np.exp(grad, out=grad)
    total = grad.sum(axis=0, keepdims=True)
    if N == 0:
        return float("nan"), grad
    J = float(np.mean(np.log(total[0]) - picked))
    grad *= 1.0 / (N * total)                                # softmax / N
    grad[targets, columns] -= 1.0 / N
    return J, grad
