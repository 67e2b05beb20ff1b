"""Checks for the activation exercises of 01_activations.

Each ``check_<name>(fn, seed=0, hidden=False)`` compares the student's ``fn``
with ``helpers.activations.<name>``; ``hidden=True`` adds the cases of the
hidden tests (random shapes, more extreme values).
"""
from __future__ import annotations

import numpy as np

from .. import activations as ref
from .exercises import exercise
from .framework import Case, close, run_check, using_reference

EXTREME = np.array([-1e4, -1000.0, -30.0, 0.0, 30.0, 1000.0, 1e4])


def _elementwise_cases(rng, hidden: bool, extreme=EXTREME) -> list[Case]:
    """Cases for an elementwise function: small values, a random matrix, extremes (and, hidden, more)."""
    cases = [
        Case("small values z = [-2, -1, -0.5, 0, 0.5, 1, 2]", (np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]),), elementwise=True),
        Case("a random (3, 4) matrix z", (rng.normal(size=(3, 4)),), elementwise=True),
    ]
    if extreme is not None:
        cases.append(Case(f"extreme values z = [{', '.join(f'{v:g}' for v in extreme)}]", (extreme.copy(),),
                          elementwise=True))
    if hidden:
        shape = tuple(int(d) for d in rng.integers(1, 6, size=rng.integers(1, 4)))
        cases += [
            Case(f"a random {shape} array z with entries of magnitude up to 50", (rng.uniform(-50, 50, size=shape),),
                 elementwise=True),
            Case("a 0-d array z = 0.75", (np.array(0.75),), elementwise=True),
            Case("a (2, 3, 4) array z", (rng.normal(scale=3.0, size=(2, 3, 4)),), elementwise=True),
        ]
    return cases


def _sigmoid_nan_hint(case, expected, got):
    if np.isnan(got[0]).any() and not np.isnan(expected[0]).any():
        return (f"sigmoid returned nan on {case.label}. np.exp(1000) overflows to inf and inf/inf is nan: "
                "rewrite it so that exp never overflows, e.g. with e = np.exp(-np.abs(z)) <= 1 and the two forms "
                "1/(1+e) for z >= 0 and e/(1+e) for z < 0 (np.where picks per element).")


def _reduction_hint(case, expected, got):
    if got[0].shape != expected[0].shape:
        return ("the output must have the same shape as z. np.max reduces along an axis; np.maximum compares "
                "elementwise.")


@exercise("01_activations", points=15, reference=ref.sigmoid)
def check_sigmoid(sigmoid, seed: int = 0, hidden: bool = False) -> None:
    """sigmoid(z) = 1/(1+exp(-z)), exact and nan-free for |z| up to 1e4."""
    cases = _elementwise_cases(np.random.default_rng(seed), hidden)

    def sign_hint(case, expected, got):
        z = case.args[0]
        if close(got[0], ref.sigmoid(-z)):
            return "you computed sigmoid(-z): the exponent is exp(-z), so sigmoid(z) grows with z."
        if close(got[0][z >= 0], expected[0][z >= 0]) and close(got[0][z < 0], ref.sigmoid(-z[z < 0])):
            return ("right for z >= 0, wrong for z < 0: with e = np.exp(-np.abs(z)) (not np.exp(-z)), "
                    "e/(1+e) is sigmoid(z) for negative z.")

    def clip_hint(case, expected, got):
        z = case.args[0]
        if np.any((np.abs(z) > 20) & ~np.isclose(got[0], expected[0], rtol=1e-6, atol=1e-15)):
            return ("wrong only for large |z|: the values must be exact there too (sigmoid(-1000) is 0 to double "
                    "precision, not a small number), so do not clip z.")

    run_check(sigmoid, ref.sigmoid, cases, name="sigmoid", hints=(_sigmoid_nan_hint, sign_hint, clip_hint),
              atol=1e-15)


@exercise("01_activations", points=10, reference=ref.sigmoid_grad)
def check_sigmoid_grad(sigmoid_grad, seed: int = 0, hidden: bool = False) -> None:
    """sigmoid_grad(z) = sigma(z) (1 - sigma(z)), taken at the pre-activation z."""
    cases = _elementwise_cases(np.random.default_rng(seed), hidden)

    def at_z_hint(case, expected, got):
        z = case.args[0]
        if np.isnan(got[0]).any():
            return ("nan: exp overflowed for large |z|. Call your (stable) sigmoid instead: "
                    "s = sigmoid(z); return s * (1 - s).")
        if close(got[0], z * (1 - z)):
            return "you returned z * (1 - z): the formula is sigma(z) * (1 - sigma(z)); apply sigmoid to z first."
        if close(got[0], ref.sigmoid(z) * (1 - z)):
            return "use sigma(z) in both factors: sigma(z) * (1 - sigma(z)), not sigma(z) * (1 - z)."
        if close(got[0], ref.sigmoid(z)):
            return "you returned sigmoid(z) itself, not its derivative sigma(z) * (1 - sigma(z))."

    with using_reference(sigmoid_grad, sigmoid=ref.sigmoid):  # a wrong sigmoid costs only its own points
        run_check(sigmoid_grad, ref.sigmoid_grad, cases, name="sigmoid_grad", hints=(at_z_hint,), atol=1e-12)


@exercise("01_activations", points=10, reference=ref.tanh_grad)
def check_tanh_grad(tanh_grad, seed: int = 0, hidden: bool = False) -> None:
    """tanh_grad(z) = 1 - tanh(z)^2, taken at the pre-activation z."""
    cases = _elementwise_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        z = case.args[0]
        if close(got[0], 1 - z ** 2):
            return "you returned 1 - z**2: tanh_grad receives the pre-activation z, so compute 1 - tanh(z)**2."
        if close(got[0], 1 - np.tanh(z)):
            return "you returned 1 - tanh(z): the derivative is 1 - tanh(z)**2 (squared)."

    run_check(tanh_grad, ref.tanh_grad, cases, name="tanh_grad", hints=(hint,))


@exercise("01_activations", points=10, reference=ref.relu)
def check_relu(relu, seed: int = 0, hidden: bool = False) -> None:
    """relu(z) = max(z, 0) elementwise, same shape and float dtype as z."""
    cases = _elementwise_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        z = case.args[0]
        if close(got[0], z):
            return "you returned z unchanged: negative entries must become 0."
        if close(got[0], np.abs(z)):
            return "you returned |z|: negative entries must become 0, not change sign."

    run_check(relu, ref.relu, cases, name="relu", hints=(_reduction_hint, hint))


@exercise("01_activations", points=10, reference=ref.relu_grad)
def check_relu_grad(relu_grad, seed: int = 0, hidden: bool = False) -> None:
    """relu_grad(z) = 1.0 where z > 0 else 0.0 (relu'(0) = 0), as floats."""
    cases = _elementwise_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        z = case.args[0]
        if close(got[0], (z >= 0).astype(float)):
            return "at z = 0 you returned 1; this course takes relu'(0) = 0 (use z > 0, not z >= 0)."
        if close(got[0], ref.relu(z)):
            return "you returned relu(z) itself; the derivative is 1 where z > 0 and 0 elsewhere."

    def dtype_hint(case, expected, got):
        if got[0].dtype == bool and got[0].shape == expected[0].shape:
            return "(z > 0) is a boolean array; return it as floats with (z > 0).astype(float)."

    run_check(relu_grad, ref.relu_grad, cases, name="relu_grad", hints=(_reduction_hint, dtype_hint, hint))


@exercise("01_activations", points=15, reference=ref.softmax)
def check_softmax(softmax, seed: int = 0, hidden: bool = False) -> None:
    """softmax over each column of a (C, N) matrix, or over a vector (C,); stable for logits of 1e4."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("a vector z = [1, 2, 3] (shape (3,))", (np.array([1.0, 2.0, 3.0]),)),
        Case("a (4, 3) matrix z: 4 classes, 3 examples as columns", (rng.normal(size=(4, 3)),)),
        Case("large logits z = [[1e4, -1e4], [0, 0], [-1e4, 1e4]]",
             (np.array([[1e4, -1e4], [0.0, 0.0], [-1e4, 1e4]]),)),
    ]
    if hidden:
        C, N = rng.integers(2, 9, size=2)
        cases += [
            Case(f"a random ({C}, {N}) matrix of logits with scale 100", (rng.normal(scale=100, size=(C, N)),)),
            Case("one class, z = [[3, -2]]", (np.array([[3.0, -2.0]]),)),
            Case("columns on very different scales z = [[1000, -1000], [999, -1001]]",
                 (np.array([[1000.0, -1000.0], [999.0, -1001.0]]),)),
            Case("a vector of large equal logits z = [800, 800, 800]", (np.full(3, 800.0),)),
        ]

    def hint(case, expected, got):
        z = case.args[0]
        if np.isnan(got[0]).any():
            return ("nan means exp overflowed (exp(1000) = inf, inf/inf = nan) or every term of a column "
                    "underflowed to 0 (0/0 = nan). Subtract each column's own max (z.max(axis=0, keepdims=True)), "
                    "not the max of the whole matrix: then the largest exponent of every column is exactly 0.")
        if z.ndim == 2 and close(got[0], np.exp(z - z.max()) / np.exp(z - z.max()).sum()):
            return "you normalised over the whole matrix; normalise each column: sum over axis=0 with keepdims=True."
        if z.ndim == 2 and close(got[0], ref.softmax(z.T).T):
            return ("you normalised each row; each column is one example (shape (C, N)), so take max and sum "
                    "over axis=0 with keepdims=True.")

    run_check(softmax, ref.softmax, cases, name="softmax", hints=(hint,))
