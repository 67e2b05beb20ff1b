"""Gradient clipping (梯度裁剪) against exploding gradients (lecture item 12).

By global norm (Pascanu, Mikolov & Bengio 2013, Algorithm 1): with ||g|| the Euclidean norm of
all gradients of the model taken together,

    if ||g|| > max_norm:  g <- (max_norm / ||g||) g

so the step keeps its direction and only its length is capped; below the threshold nothing
changes.  By value: every element is clipped into [-value, value] separately, which caps each
component but changes the direction of the step.  Norm clipping is what is used in practice.

Gradients are dicts {name: array}; the input dict and its arrays are never modified, a new dict
of new arrays is returned, each with the dtype of its input.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .validate import as_float_array, describe, require_positive_number


def _gradients(grads, fn):
    if not isinstance(grads, Mapping):
        raise TypeError(f"{fn}: argument 'grads' must be a dict of arrays; received {describe(grads)}")
    return {key: as_float_array(value, f"grads[{key!r}]", fn) for key, value in grads.items()}




def _norm(grads):
    return math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))


def global_norm(grads):
    """||g|| = sqrt(sum over all arrays and elements of g^2), a float (0.0 for an empty dict)."""
    return _norm(_gradients(grads, "global_norm"))


def clip_by_global_norm(grads, max_norm):
    """(clipped, total_norm): every gradient scaled by max_norm / ||g|| when ||g|| > max_norm.

    grads: {name: array};  max_norm: a positive number.  total_norm is ||g|| before clipping
    (a float; nan or inf when a gradient is, and then nothing is scaled, so the caller can see it).
    """
    fn = "clip_by_global_norm"
    grads = _gradients(grads, fn)
    max_norm = require_positive_number(max_norm, "max_norm", fn)
    total = _norm(grads)
    if not total > max_norm or math.isinf(total):
        return {key: g.copy() for key, g in grads.items()}, total
    scale = max_norm / total
    return {key: g * g.dtype.type(scale) for key, g in grads.items()}, total


def clip_by_value(grads, value):
    """Every element clipped into [-value, value]: {name: np.clip(g, -value, value)}.  value > 0."""
    fn = "clip_by_value"
    grads = _gradients(grads, fn)
    value = require_positive_number(value, "value", fn)
    return {key: np.clip(g, -value, value).astype(g.dtype, copy=False) for key, g in grads.items()}
