"""helpers.linear: collapse_linear against applying the layers one after another, fit_affine
against the normal equations, and errors on bad input."""
import numpy as np
import pytest

from helpers.linear import collapse_linear, fit_affine


def random_stack(rng, sizes):
    Ws = [rng.normal(size=(m, n)) for n, m in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=(m, 1)) for m in sizes[1:]]
    return Ws, bs


@pytest.mark.parametrize("sizes", [[3, 2], [2, 4, 3], [3, 3, 3], [4, 5, 3, 2], [1, 6, 1, 4, 2, 3]])
def test_collapse_linear_equals_the_layers_applied_in_turn(sizes):
    rng = np.random.default_rng(len(sizes))
    Ws, bs = random_stack(rng, sizes)
    x = rng.normal(size=(sizes[0], 7))
    z = x
    for W_l, b_l in zip(Ws, bs):
        z = W_l @ z + b_l
    W, b = collapse_linear(Ws, bs)
    assert W.shape == (sizes[-1], sizes[0]) and b.shape == (sizes[-1], 1)
    np.testing.assert_allclose(W @ x + b, z, rtol=1e-12, atol=1e-12)
    # b is where the map sends 0, and W x is the map minus that offset
    z0 = np.zeros((sizes[0], 1))
    for W_l, b_l in zip(Ws, bs):
        z0 = W_l @ z0 + b_l
    np.testing.assert_allclose(b, z0, rtol=1e-12, atol=1e-12)


def test_collapse_linear_two_layers_by_hand():
    W1, b1 = np.array([[1.0, 2.0]]), np.array([[3.0]])
    W2, b2 = np.array([[2.0], [-1.0]]), np.array([[1.0], [0.5]])
    W, b = collapse_linear((W1, W2), (b1, b2))  # tuples are accepted too
    np.testing.assert_array_equal(W, [[2.0, 4.0], [-1.0, -2.0]])
    np.testing.assert_array_equal(b, [[7.0], [-2.5]])


def test_collapse_linear_returns_new_arrays_and_keeps_its_inputs():
    Ws, bs = [np.eye(2)], [np.ones((2, 1))]
    W, b = collapse_linear(Ws, bs)
    W[0, 0] = b[0, 0] = 99.0
    np.testing.assert_array_equal(Ws[0], np.eye(2))
    np.testing.assert_array_equal(bs[0], np.ones((2, 1)))


def test_collapse_linear_integer_weights_become_float():
    W, b = collapse_linear([np.array([[1, 2]])], [np.array([[3]])])
    assert W.dtype == b.dtype == np.float64


def test_collapse_linear_errors():
    W1, W2 = np.ones((4, 2)), np.ones((3, 4))
    b1, b2 = np.ones((4, 1)), np.ones((3, 1))
    with pytest.raises(ValueError, match=r"^collapse_linear: arguments 'Ws' and 'bs' must be non-empty lists of "
                                         r"equal length; received 2 weights and 1 biases"):
        collapse_linear([W1, W2], [b1])
    with pytest.raises(ValueError, match=r"received 0 weights and 0 biases"):
        collapse_linear([], [])
    with pytest.raises(TypeError, match=r"^collapse_linear: argument 'Ws' must be a list or tuple; "
                                        r"received array of shape \(4, 2\)"):
        collapse_linear(W1, [b1])
    with pytest.raises(TypeError, match=r"^collapse_linear: argument 'bs' must be a list or tuple; received None"):
        collapse_linear([W1], None)
    with pytest.raises(ValueError, match=r"^collapse_linear: argument 'Ws\[1\]' must have shape \(\?, 4\); "
                                         r"received shape \(3, 2\)"):
        collapse_linear([W1, np.ones((3, 2))], [b1, b2])
    with pytest.raises(ValueError, match=r"^collapse_linear: argument 'bs\[0\]' must have shape \(4, 1\); "
                                         r"received shape \(1, 4\)"):
        collapse_linear([W1, W2], [b1.T, b2])
    with pytest.raises(ValueError, match=r"^collapse_linear: argument 'bs\[1\]' must be 2-D; received shape \(3,\)"):
        collapse_linear([W1, W2], [b1, np.ones(3)])
    with pytest.raises(TypeError, match=r"^collapse_linear: argument 'Ws\[0\]' must be a real numeric array.*"
                                        r"dtype <U1"):
        collapse_linear([np.array([["a"]])], [np.ones((1, 1))])


# ---------------------------------------------------------------- fit_affine


def normal_equations(X, y, use_bias):
    """Solve (A A^T) theta = A y^T with A = [X; 1] (or X), independently of lstsq."""
    A = np.vstack([X, np.ones((1, X.shape[1]))]) if use_bias else X
    return np.linalg.solve(A @ A.T, A @ y.T).T


def test_fit_affine_recovers_an_exact_affine_map():
    X = np.random.default_rng(0).normal(size=(3, 12))
    W_true, b_true = np.array([[1.5, -2.0, 0.25]]), np.array([[4.0]])
    W, b = fit_affine(X, W_true @ X + b_true)
    np.testing.assert_allclose(W, W_true, rtol=1e-10)
    np.testing.assert_allclose(b, b_true, rtol=1e-10)


@pytest.mark.parametrize("D, N, seed", [(1, 20, 0), (2, 30, 1), (4, 15, 2)])
def test_fit_affine_matches_the_normal_equations(D, N, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(D, N)) + 1.0
    y = rng.normal(size=(1, D)) @ X + 2.5 + 0.3 * rng.normal(size=(1, N))
    W, b = fit_affine(X, y, use_bias=True)
    theta = normal_equations(X, y, True)
    assert W.shape == (1, D) and b.shape == (1, 1)
    np.testing.assert_allclose(W, theta[:, :D], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, theta[:, D:], rtol=1e-9, atol=1e-12)
    # optimality: the residual is orthogonal to every input row and to the constant
    r = W @ X + b - y
    np.testing.assert_allclose(X @ r.T, 0, atol=1e-9)
    assert abs(r.sum()) < 1e-9


def test_fit_affine_without_bias_goes_through_the_origin():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 3, size=(1, 25))
    y = 2.0 * x + 3.0 + 0.1 * rng.normal(size=(1, 25))
    W, b = fit_affine(x, y, use_bias=False)
    assert b.shape == (1, 1)
    np.testing.assert_array_equal(b, 0.0)
    np.testing.assert_allclose(W, normal_equations(x, y, False), rtol=1e-10)
    np.testing.assert_allclose(W, [[np.sum(x * y) / np.sum(x * x)]], rtol=1e-10)  # slope through 0
    np.testing.assert_array_equal(W @ np.zeros((1, 1)) + b, 0.0)
    W_b, b_b = fit_affine(x, y, use_bias=True)
    assert abs(b_b[0, 0] - 3.0) < 0.2 and abs(W_b[0, 0] - 2.0) < 0.1
    loss = lambda W, b: float(np.sum((W @ x + b - y) ** 2))
    assert loss(W_b, b_b) < loss(W, b)  # the bias helps here


def test_fit_affine_accepts_numpy_bool_and_integer_data():
    W, b = fit_affine(np.array([[0, 1, 2, 3]]), np.array([[1, 3, 5, 7]]), use_bias=np.True_)
    np.testing.assert_allclose(W, [[2.0]])
    np.testing.assert_allclose(b, [[1.0]])


def test_fit_affine_errors():
    X, y = np.ones((2, 5)), np.ones((1, 5))
    with pytest.raises(TypeError, match=r"^fit_affine: argument 'use_bias' must be True or False; received 'yes'"):
        fit_affine(X, y, use_bias="yes")
    with pytest.raises(TypeError, match=r"^fit_affine: argument 'use_bias' must be True or False; received 1"):
        fit_affine(X, y, use_bias=1)
    with pytest.raises(ValueError, match=r"^fit_affine: argument 'y' must have shape \(1, 5\); received shape \(1, 4\)"):
        fit_affine(X, np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"^fit_affine: argument 'y' must have shape \(1, 5\); received shape \(5, 1\)"):
        fit_affine(X, y.T)
    with pytest.raises(ValueError, match=r"^fit_affine: argument 'X' must be 2-D; received shape \(5,\)"):
        fit_affine(np.ones(5), y)
    with pytest.raises(TypeError, match=r"^fit_affine: argument 'X' must be a real numeric array.*received None"):
        fit_affine(None, y)
