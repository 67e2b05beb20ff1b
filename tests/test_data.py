"""helpers.data: deterministic for a seed, different for another, shapes, labels and the rules
that define each data set."""
import numpy as np
import pytest

from helpers import data

MAKERS = {"xor": data.make_xor, "circles": data.make_circles, "wave": data.make_wave}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_deterministic_for_a_seed_and_different_for_another(name):
    make = MAKERS[name]
    X1, y1 = make(seed=5)
    X2, y2 = make(seed=5)
    X3, y3 = make(seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_independent_of_the_global_numpy_seed(name):
    np.random.seed(0)
    a = MAKERS[name](seed=1)
    np.random.seed(1)
    np.random.rand(10)
    b = MAKERS[name](seed=1)
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("name, D", [("xor", 2), ("circles", 2), ("wave", 1)])
@pytest.mark.parametrize("n", [1, 7, 200])
def test_shapes_and_dtypes(name, D, n):
    X, y = MAKERS[name](n=n, seed=0)
    assert X.shape == (D, n) and y.shape == (1, n)
    assert X.dtype == y.dtype == np.float64
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))


@pytest.mark.parametrize("name", ["xor", "circles"])
def test_labels_are_zero_or_one_and_both_occur(name):
    _, y = MAKERS[name](n=200, seed=2)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert 0.35 < y.mean() < 0.65


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_xor_labels_follow_the_sign_rule(seed):
    X, y = data.make_xor(n=300, seed=seed)
    np.testing.assert_array_equal(y[0], (np.sign(X[0]) != np.sign(X[1])).astype(float))
    # four clusters around (+-1, +-1), each of them used
    corners = np.sign(X)
    assert {tuple(c) for c in corners.T} == {(-1, -1), (-1, 1), (1, -1), (1, 1)}
    np.testing.assert_allclose(np.abs(X), 1.0, atol=0.15 * 6)


def test_xor_without_noise_is_the_four_corners():
    X, y = data.make_xor(n=50, noise=0.0, seed=0)
    assert set(np.unique(X)) == {-1.0, 1.0}
    np.testing.assert_array_equal(y[0], (X[0] * X[1] < 0).astype(float))


def test_circles_inner_ring_is_class_one():
    X, y = data.make_circles(n=400, noise=0.0, factor=0.3, seed=0)
    r = np.linalg.norm(X, axis=0)
    np.testing.assert_allclose(r[y[0] == 1], 0.3)
    np.testing.assert_allclose(r[y[0] == 0], 1.0)
    X, y = data.make_circles(n=400, seed=0)  # with the default noise the rings are still apart on average
    r = np.linalg.norm(X, axis=0)
    assert r[y[0] == 1].mean() == pytest.approx(0.5, abs=0.05)
    assert r[y[0] == 0].mean() == pytest.approx(1.0, abs=0.05)


def test_wave_is_sorted_and_follows_the_curve():
    x, y = data.make_wave(n=500, seed=0)
    assert np.all(np.diff(x[0]) >= 0) and x.min() >= -3 and x.max() <= 3
    residual = y - (np.sin(2 * x) + 0.5 * x)
    assert abs(residual.mean()) < 0.02 and residual.std() == pytest.approx(0.1, rel=0.1)
    x0, y0 = data.make_wave(n=20, noise=0.0, seed=0)
    np.testing.assert_allclose(y0, np.sin(2 * x0) + 0.5 * x0, rtol=1e-15)
