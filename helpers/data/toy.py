"""Small generated data sets, deterministic given a seed (no downloads).

Points are columns: X has shape (2, N) or (1, N), labels and targets (1, N).
"""
from __future__ import annotations

import numpy as np


def _require_count(n, fn):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{fn}: argument 'n' must be a positive integer; received {n!r}")


def make_xor(n=200, noise=0.15, seed=0):
    """XOR (异或): four clusters at (+-1, +-1), label 1 where the signs of x1 and x2 differ.

    No line separates the classes.  Returns X (2, n), y (1, n) in {0., 1.}.
    """
    _require_count(n, "make_xor")
    rng = np.random.default_rng(seed)
    corners = rng.choice([-1.0, 1.0], size=(2, n))
    X = corners + noise * rng.normal(size=(2, n))
    return X, (corners[0] != corners[1]).astype(float)[None, :]


def make_circles(n=200, noise=0.1, factor=0.5, seed=0):
    """Two concentric rings: label 1 on the inner ring (radius ``factor``), 0 on the outer (radius 1).

    Returns X (2, n), y (1, n) in {0., 1.}.
    """
    _require_count(n, "make_circles")
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(float)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    radius = np.where(y == 1, factor, 1.0)
    X = radius * np.vstack([np.cos(angle), np.sin(angle)]) + noise * rng.normal(size=(2, n))
    return X, y[None, :]


def make_wave(n=100, noise=0.1, seed=0):
    """A nonlinear 1-D regression: y = sin(2x) + 0.5 x + noise for x uniform in [-3, 3].

    Returns x (1, n) sorted, y (1, n).
    """
    _require_count(n, "make_wave")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3, 3, size=n))[None, :]
    return x, np.sin(2 * x) + 0.5 * x + noise * rng.normal(size=(1, n))
