"""helpers.activations: values against independent computations (Python's decimal and math
modules, identities), stability at |z| = 1e4, derivatives against finite differences,
shapes and dtypes, and errors on bad input."""
import contextlib
import math
import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest

from helpers import activations as A
from helpers.gradcheck import gradcheck

ELEMENTWISE = [A.sigmoid, A.sigmoid_grad, A.tanh, A.tanh_grad, A.relu, A.relu_grad, A.identity, A.identity_grad]
ALL = ELEMENTWISE + [A.softmax, A.log_softmax]
EXTREME = [-1e4, -1000.0, -745.0, -709.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0, 709.0, 745.0, 1000.0, 1e4]


@contextlib.contextmanager
def strict():
    """Any warning or floating-point error (except underflow to 0) raises."""
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


def exact_sigmoid(z):
    """1 / (1 + e^-z) with 50 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 50
        return float(1 / (1 + (-Decimal(z)).exp()))


def exact_sigmoid_grad(z):
    """e^-z / (1 + e^-z)^2 with 50 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 50
        e = (-Decimal(z)).exp()
        return float(e / (1 + e) ** 2)


# ---------------------------------------------------------------- sigmoid


def test_sigmoid_known_values():
    assert A.sigmoid(np.array(0.0)) == 0.5
    assert A.sigmoid(np.array(math.log(3.0))) == pytest.approx(0.75, rel=1e-15)
    assert A.sigmoid(np.array(-math.log(3.0))) == pytest.approx(0.25, rel=1e-15)


def test_sigmoid_exact_and_warning_free_at_the_extremes():
    z = np.array(EXTREME)
    with strict():
        got = A.sigmoid(z)
    expected = np.array([exact_sigmoid(v) for v in EXTREME])
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    # the tiny values are kept to full relative precision, not rounded to 0
    assert got[EXTREME.index(-709.0)] == pytest.approx(math.exp(-709.0), rel=1e-12)
    assert got[EXTREME.index(-1e4)] == 0.0 and got[EXTREME.index(1e4)] == 1.0


def test_sigmoid_symmetry_and_tanh_identity():
    z = np.random.default_rng(0).normal(scale=5, size=(4, 5))
    np.testing.assert_allclose(A.sigmoid(z) + A.sigmoid(-z), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(A.tanh(z), 2 * A.sigmoid(2 * z) - 1, rtol=0, atol=1e-14)
    np.testing.assert_allclose(A.tanh(z), np.vectorize(math.tanh)(z), rtol=1e-14, atol=0)


def test_sigmoid_grad_exact_and_warning_free_at_the_extremes():
    z = np.array(EXTREME)
    with strict():
        got = A.sigmoid_grad(z)
    expected = np.array([exact_sigmoid_grad(v) for v in EXTREME])
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)
    # where sigma(z) rounds to 1, 1 - sigma(z) would be 0; the exact value is e^-30
    assert got[EXTREME.index(30.0)] == pytest.approx(math.exp(-30.0), rel=1e-12)


def test_sigmoid_grad_equals_sigma_times_one_minus_sigma():
    z = np.linspace(-8, 8, 33)
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(A.sigmoid_grad(z), s * (1 - s), rtol=1e-12)
    assert A.sigmoid_grad(np.array(0.0)) == 0.25


# ---------------------------------------------------------------- tanh, relu, identity


def test_tanh_and_tanh_grad_values():
    z = np.array([-20.0, -3.0, -0.5, 0.0, 0.5, 3.0, 20.0])
    np.testing.assert_allclose(A.tanh(z), [math.tanh(v) for v in z], rtol=1e-15)
    np.testing.assert_allclose(A.tanh_grad(z), [1 / math.cosh(v) ** 2 for v in z], rtol=1e-12, atol=1e-15)
    assert A.tanh_grad(np.array(0.0)) == 1.0
    with strict():
        assert np.all(np.isfinite(A.tanh(np.array(EXTREME)))) and np.all(np.isfinite(A.tanh_grad(np.array(EXTREME))))


def test_relu_and_relu_grad_values():
    z = np.array([-1e4, -2.0, -1e-300, 0.0, 1e-300, 3.5, 1e4])
    np.testing.assert_array_equal(A.relu(z), [0, 0, 0, 0, 1e-300, 3.5, 1e4])
    np.testing.assert_array_equal(A.relu_grad(z), [0, 0, 0, 0, 1, 1, 1])  # relu'(0) = 0 by convention


def test_identity_and_identity_grad():
    z = np.arange(6.0).reshape(2, 3)
    out = A.identity(z)
    np.testing.assert_array_equal(out, z)
    out[0, 0] = 99.0
    assert z[0, 0] == 0.0, "identity must return a copy, not the input itself"
    np.testing.assert_array_equal(A.identity_grad(z), np.ones((2, 3)))


# ---------------------------------------------------------------- derivatives by finite differences

GRADS = {
    "sigmoid": (A.sigmoid, A.sigmoid_grad),
    "tanh": (A.tanh, A.tanh_grad),
    "relu": (A.relu, A.relu_grad),
    "identity": (A.identity, A.identity_grad),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_derivative_matches_central_differences(name):
    f, f_grad = GRADS[name]
    rng = np.random.default_rng(1)
    z = rng.normal(scale=2.0, size=(3, 4))
    z[np.abs(z) < 0.1] += 0.5  # relu: stay away from the kink at 0
    report = gradcheck(lambda x: float(np.sum(f(x))), z, f_grad(z))
    assert report.passed, str(report)
    # and with a weighted sum, so every element's derivative enters with a different factor
    w = rng.normal(size=z.shape)
    assert gradcheck(lambda x: float(np.sum(w * f(x))), z, w * f_grad(z)).passed


def test_a_derivative_taken_at_the_activation_fails_the_gradient_check():
    z = np.linspace(-2, 2, 9) + 0.05
    wrong = 1 - A.tanh(z)  # 1 - tanh(z), missing the square
    assert not gradcheck(lambda x: float(np.sum(A.tanh(x))), z, wrong).passed


def test_get_activation_and_the_table():
    assert set(A.ACTIVATIONS) == {"sigmoid", "tanh", "relu", "identity"}
    for name, pair in A.ACTIVATIONS.items():
        assert A.get_activation(name) == pair
    assert A.get_activation("tanh") == (A.tanh, A.tanh_grad)
    with pytest.raises(ValueError, match=r"get_activation: argument 'name' must be one of \['identity', "
                                         r"'relu', 'sigmoid', 'tanh'\]; received 'softplus'"):
        A.get_activation("softplus")


# ---------------------------------------------------------------- softmax, log_softmax


def exact_softmax(column):
    with localcontext() as ctx:
        ctx.prec = 50
        e = [Decimal(float(v)).exp() for v in column]
        return [float(x / sum(e)) for x in e]


def test_softmax_known_values():
    np.testing.assert_allclose(A.softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75], rtol=1e-15)
    np.testing.assert_allclose(A.softmax(np.log([1.0, 2.0, 3.0, 4.0])), [0.1, 0.2, 0.3, 0.4], rtol=1e-14)
    z = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(A.softmax(z), exact_softmax(z), rtol=1e-14)


def test_softmax_normalises_each_column():
    Z = np.random.default_rng(2).normal(scale=3, size=(4, 5))
    S = A.softmax(Z)
    assert S.shape == (4, 5)
    np.testing.assert_allclose(S.sum(axis=0), np.ones(5), rtol=1e-14)
    for j in range(5):
        np.testing.assert_allclose(S[:, j], exact_softmax(Z[:, j]), rtol=1e-13)
        np.testing.assert_allclose(S[:, j], A.softmax(Z[:, j]), rtol=1e-15)
    assert not np.allclose(S.sum(axis=1), 1.0)  # rows are not normalised


def test_softmax_shift_invariance_per_column():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(3, 4))
    shift = rng.normal(scale=500, size=(1, 4))  # a different constant for every column
    np.testing.assert_allclose(A.softmax(Z + shift), A.softmax(Z), rtol=1e-10)
    np.testing.assert_allclose(A.log_softmax(Z + shift), A.log_softmax(Z), rtol=1e-9, atol=1e-9)


def test_log_softmax_is_log_of_softmax():
    Z = np.random.default_rng(4).normal(scale=4, size=(5, 3))
    np.testing.assert_allclose(np.exp(A.log_softmax(Z)), A.softmax(Z), rtol=1e-13)
    np.testing.assert_allclose(A.log_softmax(Z), np.log(A.softmax(Z)), rtol=1e-12)
    z = Z[:, 0]
    lse = math.log(math.fsum(math.exp(v) for v in z))
    np.testing.assert_allclose(A.log_softmax(z), z - lse, rtol=1e-13)


def test_softmax_and_log_softmax_stable_for_logits_of_magnitude_1e4():
    Z = np.array([[1e4, -1e4, 1000.0], [0.0, 0.0, 999.0], [-1e4, 1e4, -1000.0]])
    with strict():
        S, L = A.softmax(Z), A.log_softmax(Z)
        v = A.softmax(np.full(3, 1e4))
        s1, l1 = A.softmax(np.array([1e4, 0.0, -1e4])), A.log_softmax(np.array([1e4, 0.0, -1e4]))
    assert np.all(np.isfinite(S)) and np.all(np.isfinite(L))
    np.testing.assert_allclose(S[:, 0], [1, 0, 0], atol=1e-300)
    np.testing.assert_allclose(S[:, 1], [0, 0, 1], atol=1e-300)
    e = math.e
    np.testing.assert_allclose(S[:2, 2], [e / (1 + e), 1 / (1 + e)], rtol=1e-14)
    np.testing.assert_allclose(L[:, 0], [0.0, -1e4, -2e4], rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(L[:, 1], [-2e4, -1e4, 0.0], rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(v, [1 / 3] * 3, rtol=1e-15)
    np.testing.assert_array_equal(s1, [1.0, 0.0, 0.0])  # 1-D: e^-1e4 underflows to exactly 0
    np.testing.assert_array_equal(l1, [0.0, -1e4, -2e4])  # ... but its log stays finite and exact


def test_softmax_single_class_and_empty_batch():
    np.testing.assert_array_equal(A.softmax(np.array([[3.0, -2.0]])), [[1.0, 1.0]])
    np.testing.assert_array_equal(A.log_softmax(np.array([[3.0, -2.0]])), [[0.0, 0.0]])
    assert A.softmax(np.zeros((3, 0))).shape == (3, 0)


# ---------------------------------------------------------------- shapes and dtypes


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_float_dtype_is_kept(fn, dtype):
    z = np.array([[-3.0, 0.5], [2.0, -0.25], [1.0, 4.0]], dtype=dtype)
    out = fn(z)
    assert isinstance(out, np.ndarray) and out.dtype == dtype and out.shape == z.shape


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
def test_integers_and_lists_become_float64(fn):
    for z in (np.array([[-2, 0], [1, 3]]), [[-2, 0], [1, 3]], np.array([-2, 0, 1], dtype=np.int8)):
        out = fn(z)
        assert out.dtype == np.float64 and out.shape == np.shape(z)
    np.testing.assert_allclose(fn(np.array([[-2, 0], [1, 3]])), fn(np.array([[-2.0, 0.0], [1.0, 3.0]])))


def test_integer_input_gives_float_values_not_integer_ones():
    np.testing.assert_allclose(A.sigmoid(np.array([0, 1])), [0.5, exact_sigmoid(1)], rtol=1e-15)
    np.testing.assert_allclose(A.softmax(np.array([0, 0])), [0.5, 0.5])


@pytest.mark.parametrize("fn", ELEMENTWISE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4)])
def test_elementwise_functions_keep_any_shape(fn, shape):
    z = np.random.default_rng(5).normal(size=shape)
    out = fn(z)
    assert np.shape(out) == shape
    flat = np.array([fn(np.array([v]))[0] for v in np.ravel(z)])
    np.testing.assert_array_equal(np.ravel(out), flat)  # elementwise: no mixing between entries


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
def test_input_is_not_modified(fn):
    z = np.array([[-3.0, 0.0], [2.0, 1e4]])
    before = z.copy()
    fn(z)
    np.testing.assert_array_equal(z, before)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad, received", [
    ("abc", r"received str 'abc' of dtype <U3"),
    (None, r"received None of dtype object"),
    (np.array([1.0, None], dtype=object), r"received an array of dtype object"),
    (np.array([True, False]), r"received an array of dtype bool"),
    (np.array([1 + 2j]), r"received an array of dtype complex128"),
    ([[1.0, 2.0], [3.0]], r"received list \[\[1.0, 2.0\], \[3.0\]\]"),
])
def test_non_numeric_input_raises_type_error(fn, bad, received):
    with pytest.raises(TypeError, match=rf"^{fn.__name__}: argument 'z' must be a .*numeric array.*{received}"):
        fn(bad)


@pytest.mark.parametrize("fn", [A.softmax, A.log_softmax], ids=lambda f: f.__name__)
def test_softmax_rejects_wrong_shapes(fn):
    name = fn.__name__
    with pytest.raises(ValueError, match=rf"^{name}: argument 'z' must be 1-D or 2-D; received shape \(2, 3, 4\)"):
        fn(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=rf"^{name}: argument 'z' must be 1-D or 2-D; received shape \(\)"):
        fn(np.array(1.0))
    with pytest.raises(ValueError, match=rf"^{name}: argument 'z' needs at least one class \(row\); "
                                         r"received shape \(0, 3\)"):
        fn(np.zeros((0, 3)))
