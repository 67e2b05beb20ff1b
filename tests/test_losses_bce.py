"""helpers.losses.binary_cross_entropy and binary_cross_entropy_grad: the textbook formula in Python
floats, the limits for huge scores without a warning, the gradient against central differences,
and errors on bad input."""
import math
import warnings

import numpy as np
import pytest

from helpers.gradcheck import gradcheck
from helpers.losses import binary_cross_entropy, binary_cross_entropy_grad


def textbook_bce(s, y):
    """-mean[y log sigma(s) + (1-y) log(1 - sigma(s))], term by term in Python floats (moderate s only)."""
    terms = []
    for si, yi in zip(s, y):
        y_hat = 1.0 / (1.0 + math.exp(-si))
        terms.append(yi * math.log(y_hat) + (1 - yi) * math.log(1 - y_hat))
    return -math.fsum(terms) / len(terms)


@pytest.mark.parametrize("s, y", [
    ([0.0], [1.0]),
    ([0.3], [0.0]),
    ([2.0, -1.0, 0.5, -3.0], [1.0, 0.0, 1.0, 1.0]),
    ([-8.0, -2.5, 0.1, 4.0, 7.5, 12.0], [0.0, 1.0, 0.0, 0.0, 1.0, 1.0]),
])
def test_binary_cross_entropy_equals_the_textbook_formula(s, y):
    J = binary_cross_entropy(np.array([s]), np.array([y]))
    assert isinstance(J, float)
    assert J == pytest.approx(textbook_bce(s, y), rel=1e-12)


def test_binary_cross_entropy_of_random_scores_and_the_constant_log2():
    rng = np.random.default_rng(3)
    s = rng.normal(scale=3, size=(1, 40))
    y = rng.integers(0, 2, size=(1, 40)).astype(float)
    assert binary_cross_entropy(s, y) == pytest.approx(textbook_bce(s[0], y[0]), rel=1e-12)
    # s = 0 is a coin flip: log 2 per example, whatever the labels
    assert binary_cross_entropy(np.zeros((1, 5)), y[:, :5]) == pytest.approx(math.log(2), rel=1e-15)
    # the loss is positive for both labels (the slide's sign slip would make it negative for y = 0)
    assert binary_cross_entropy(np.array([[-0.5]]), np.array([[0.0]])) > 0


def test_binary_cross_entropy_huge_scores_are_finite_exact_and_silent():
    # confidently right costs ~0, confidently wrong costs |s|: the limit of log(1 + e^s) - y s
    s = np.array([[1000.0, -1000.0, 1000.0, -1000.0, 40.0, -40.0]])
    y = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]])
    wrong = [abs(si) * (float(si > 0) != yi) for si, yi in zip(s[0], y[0])]
    tiny = [math.log1p(math.exp(-40.0)), 40.0 + math.log1p(math.exp(-40.0))]  # s = 40 right, s = -40 wrong
    expected = (math.fsum(wrong[:4]) + math.fsum(tiny)) / 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = binary_cross_entropy(s, y)
        grad = binary_cross_entropy_grad(s, y)
    assert math.isfinite(J) and J == pytest.approx(expected, rel=1e-15)
    assert np.all(np.isfinite(grad))
    # dJ/ds = (sigma(s) - y)/N: 0 when right, -+1/N when wrong
    np.testing.assert_allclose(grad[0, :4], [0.0, 0.0, 1 / 6, -1 / 6], atol=1e-300)


def test_binary_cross_entropy_grad_equals_the_formula_by_hand():
    s = [-3.0, -0.2, 0.0, 0.7, 5.0]
    y = [1.0, 0.0, 1.0, 0.0, 1.0]
    grad = binary_cross_entropy_grad(np.array([s]), np.array([y]))
    assert grad.shape == (1, 5)
    expected = [(1.0 / (1.0 + math.exp(-si)) - yi) / 5 for si, yi in zip(s, y)]
    np.testing.assert_allclose(grad[0], expected, rtol=1e-13)


@pytest.mark.parametrize("N, scale", [(1, 1.0), (2, 0.5), (7, 2.0), (25, 4.0)])
def test_binary_cross_entropy_grad_matches_central_differences(N, scale):
    rng = np.random.default_rng(N)
    s = rng.normal(scale=scale, size=(1, N))
    y = rng.integers(0, 2, size=(1, N)).astype(float)
    report = gradcheck(lambda v: binary_cross_entropy(v, y), s, binary_cross_entropy_grad(s, y))
    assert report.passed, str(report)


def test_a_gradient_without_the_1_over_N_fails_the_gradient_check():
    # the gradient check of the previous test can fail
    rng = np.random.default_rng(0)
    s, y = rng.normal(size=(1, 4)), np.array([[1.0, 0.0, 1.0, 0.0]])
    report = gradcheck(lambda v: binary_cross_entropy(v, y), s, binary_cross_entropy_grad(s, y) * 4)
    assert not report.passed


def test_the_inputs_are_not_modified():
    s, y = np.array([[1.0, -2.0]]), np.array([[1.0, 0.0]])
    binary_cross_entropy(s, y), binary_cross_entropy_grad(s, y)
    np.testing.assert_array_equal(s, [[1.0, -2.0]])
    np.testing.assert_array_equal(y, [[1.0, 0.0]])


@pytest.mark.parametrize("fn", [binary_cross_entropy, binary_cross_entropy_grad], ids=lambda f: f.__name__)
def test_errors_name_the_function_argument_expected_and_received(fn):
    name = fn.__name__
    with pytest.raises(ValueError, match=rf"^{name}: argument 's' must have shape \(1, \?\); received shape \(2, 3\)"):
        fn(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=rf"^{name}: argument 'y' must have shape \(1, 3\); received shape \(3, 1\)"):
        fn(np.zeros((1, 3)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match=rf"^{name}: argument 's' must be 2-D; received shape \(3,\)"):
        fn(np.zeros(3), np.zeros((1, 3)))
    with pytest.raises(TypeError, match=rf"^{name}: argument 's' must be a real numeric array"):
        fn("scores", np.zeros((1, 3)))
