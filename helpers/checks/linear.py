"""Checks for the affine-map exercises of 01_activations (nonlinearity and bias)."""
from __future__ import annotations

import numpy as np

from .. import linear as ref
from .exercises import exercise
from .framework import Case, close, run_check


def _stack(rng, sizes):
    """Random weights and biases for layers of the given sizes [n_0, n_1, ..., n_L]."""
    Ws = [rng.normal(size=(m, n)) for n, m in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=(m, 1)) for m in sizes[1:]]
    return Ws, bs


@exercise("01_activations", points=15, reference=ref.collapse_linear)
def check_collapse_linear(collapse_linear, seed: int = 0, hidden: bool = False) -> None:
    """collapse_linear(Ws, bs) -> (W, b) with W = W^L...W^1 and b the pushed-through biases."""
    rng = np.random.default_rng(seed)
    # the square stack comes before the others: summed biases or a reversed product only run
    # (and so only reach their hint) when all layers have the same size
    layer_sizes = [[3, 2], [3, 3, 3], [2, 4, 3], [4, 5, 3, 2]]
    if hidden:
        layer_sizes += [[int(n) for n in rng.integers(1, 6, size=rng.integers(2, 7))] for _ in range(3)]
    cases = [Case(f"{len(s) - 1} layer(s) with sizes {s}", _stack(rng, s)) for s in layer_sizes]

    def hint(case, expected, got):
        Ws, bs = case.args
        W_got, b_got = got
        if W_got.shape == expected[0].shape and not close(W_got, expected[0]):
            reverse = Ws[0]
            for W in Ws[1:]:
                reverse = reverse @ W if reverse.shape[1] == W.shape[0] else None
                if reverse is None:
                    break
            if reverse is not None and close(W_got, reverse):
                return "the product is in the wrong order: layer 1 acts first, so W = W^L ... W^2 W^1."
        if len({b.shape for b in bs}) == 1 and close(b_got, sum(bs)):
            return ("you added the biases; an earlier bias also passes through the later weights: "
                    "b = W^L(...(W^2 b^1 + b^2)...) + b^L.")
        if len(Ws) > 2 and close(b_got, Ws[-1] @ bs[-2] + bs[-1]):
            return ("right for 2 layers, wrong for more: update b from the accumulated b of the layers so far, "
                    "b <- W^l b + b^l, not from the previous layer's own bias bs[l-1].")
        if W_got.shape == expected[1].shape and b_got.shape == expected[0].shape:
            return "return the pair in the order (W, b)."

    run_check(collapse_linear, ref.collapse_linear, cases, name="collapse_linear", names=("W", "b"), hints=(hint,))


@exercise("01_activations", points=15, reference=ref.fit_affine)
def check_fit_affine(fit_affine, seed: int = 0, hidden: bool = False) -> None:
    """fit_affine(X, y, use_bias) -> (W, b): least squares, with b = 0 when use_bias is False."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 3, size=(1, 20))
    y = 2.0 * x + 3.0 + 0.1 * rng.normal(size=(1, 20))
    X2 = rng.normal(size=(2, 30))
    y2 = np.array([[1.5, -0.5]]) @ X2 - 1.0 + 0.05 * rng.normal(size=(1, 30))
    cases = [
        Case("20 points near y = 2x + 3, use_bias=True", (x, y), {"use_bias": True}),
        Case("20 points near y = 2x + 3, use_bias=False", (x, y), {"use_bias": False}),
        Case("30 points in 2-D near y = 1.5 x1 - 0.5 x2 - 1, use_bias=True", (X2, y2), {"use_bias": True}),
    ]
    if hidden:
        D, N = int(rng.integers(1, 5)), int(rng.integers(10, 40))
        X3 = rng.normal(size=(D, N))
        y3 = rng.normal(size=(1, D)) @ X3 + rng.normal() + 0.1 * rng.normal(size=(1, N))
        cases += [Case(f"random data with D={D}, N={N}, use_bias={flag}", (X3, y3), {"use_bias": flag})
                  for flag in (True, False)]

    def hint(case, expected, got):
        X, y = case.args
        W_got, b_got = got
        if case.kwargs["use_bias"] and close(W_got, ref.fit_affine(X, y, use_bias=False)[0]):
            return ("with use_bias=True, W must be fitted together with b: append a row of ones to X "
                    "(np.vstack([X, np.ones((1, N))])) and solve for [W, b] at once.")
        if not case.kwargs["use_bias"] and b_got.shape == (1, 1) and not close(b_got, 0.0 * b_got):
            return "with use_bias=False the line must pass through the origin: b is 0 and only W is fitted."

    def swapped(case, expected, got):
        X, y = case.args
        if case.kwargs["use_bias"] and X.shape[0] == 1 and close(got[0], expected[1]) and close(got[1], expected[0]):
            return "W and b are swapped: with the row of ones appended last, the last entry of theta is b."

    def lstsq_shapes(case, error):
        if isinstance(error, np.linalg.LinAlgError) or "lstsq" in str(error) or "dimension" in str(error):
            return ("np.linalg.lstsq(A, t) solves A theta ~ t with one row per point: A of shape (N, D+1) "
                    "(the transpose of [X; ones]) and t = y.T of shape (N, 1); theta comes back as (D+1, 1).")

    run_check(fit_affine, ref.fit_affine, cases, name="fit_affine", names=("W", "b"), hints=(hint, swapped),
              error_hints=(lstsq_shapes,), rtol=1e-6, atol=1e-8)
