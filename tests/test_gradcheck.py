"""helpers.gradcheck: numerical_gradient against hand-derived gradients (so these tests do not
rely on gradcheck being right), gradcheck finding a wrong element, relative_error, and errors."""
import numpy as np
import pytest

from helpers.gradcheck import GradcheckReport, gradcheck, numerical_gradient, relative_error


def cubic(x):
    """J(x) = sum x^3 + x_0 x_1 (x flattened); dJ/dx = 3 x^2 + (x_1, x_0, 0, ...)."""
    flat = x.ravel()
    return float(np.sum(x ** 3) + flat[0] * flat[1])


def cubic_grad(x):
    g = 3 * x ** 2
    flat = g.ravel()  # a view of g
    flat[0] += x.ravel()[1]
    flat[1] += x.ravel()[0]
    return g


def test_numerical_gradient_matches_a_hand_derived_gradient():
    x = np.array([[0.5, -1.5, 2.0], [1.0, -0.25, 3.0]])
    num = numerical_gradient(cubic, x)
    # central differences of a cubic have error exactly h^2 * f'''/6 = h^2 per coordinate
    np.testing.assert_allclose(num, cubic_grad(x), rtol=0, atol=1e-8)
    assert num.shape == x.shape and num.dtype == np.float64


def test_numerical_gradient_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    A, x = rng.normal(size=(4, 4)), rng.normal(size=4)
    num = numerical_gradient(lambda v: float(v @ A @ v), x)
    np.testing.assert_allclose(num, (A + A.T) @ x, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_of_a_dict_and_restores_every_element():
    W, b = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[0.5], [-0.5]])
    x = np.array([[2.0], [-3.0]])
    params = {"W": W, "b": b}
    before = {k: v.copy() for k, v in params.items()}

    def J(p):  # J = 1/2 ||W x + b||^2: dJ/dW = r x^T, dJ/db = r with r = W x + b
        r = p["W"] @ x + p["b"]
        return 0.5 * float(np.sum(r ** 2))

    num = numerical_gradient(J, params)
    r = W @ x + b
    assert set(num) == {"W", "b"}
    np.testing.assert_allclose(num["W"], r @ x.T, rtol=1e-9)
    np.testing.assert_allclose(num["b"], r, rtol=1e-9)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
        assert params[k] is (W if k == "W" else b)


def test_central_difference_is_second_order():
    # f = x^3 at x = 1: the central error is h^2, the one-sided one would be 3h
    for h in (1e-2, 1e-3):
        g = numerical_gradient(lambda v: float(v[0] ** 3), np.array([1.0]), h=h)[0]
        assert g - 3.0 == pytest.approx(h ** 2, rel=1e-3)


def test_gradcheck_passes_a_correct_gradient():
    x = np.random.default_rng(1).normal(size=(3, 2))
    report = gradcheck(cubic, x, cubic_grad(x))
    assert isinstance(report, GradcheckReport) and report.passed
    assert report.max_rel_error < 1e-8 and report.key is None and report.tol == 1e-6
    assert str(report).startswith("gradient check ok: max relative error")


@pytest.mark.parametrize("index", [(0, 0), (1, 1), (2, 0)])
def test_gradcheck_reports_the_wrong_element(index):
    x = np.random.default_rng(2).normal(size=(3, 2))
    wrong = cubic_grad(x)
    correct_value = wrong[index]
    wrong[index] += 0.5
    report = gradcheck(cubic, x, wrong)
    assert not report.passed
    assert report.index == index and report.key is None
    assert report.analytic == wrong[index]
    assert report.numeric == pytest.approx(correct_value, abs=1e-7)
    assert report.max_rel_error == pytest.approx(abs(0.5) / (abs(wrong[index]) + abs(correct_value)), rel=1e-5)
    text = str(report)
    assert "FAILED" in text and f"at {list(index)}" in text


def test_gradcheck_reports_the_wrong_key_of_a_dict():
    rng = np.random.default_rng(3)
    params = {"W1": rng.normal(size=(2, 3)), "b1": rng.normal(size=(2, 1))}
    x = rng.normal(size=(3, 4))

    def J(p):
        return float(np.sum((p["W1"] @ x + p["b1"]) ** 2))

    r = params["W1"] @ x + params["b1"]
    correct = {"W1": 2 * r @ x.T, "b1": 2 * r.sum(axis=1, keepdims=True)}
    assert gradcheck(J, params, correct).passed
    wrong = {"W1": correct["W1"], "b1": correct["b1"] * np.array([[1.0], [-1.0]])}  # sign error in b1[1]
    report = gradcheck(J, params, wrong)
    assert not report.passed and report.key == "b1" and report.index == (1, 0)
    assert report.max_rel_error == pytest.approx(1.0)
    assert "b1[1, 0]" in str(report)


def test_gradcheck_tolerance():
    x = np.array([1.0, 2.0])
    slightly_off = np.array([3.0, 12.0]) * (1 + 1e-5)  # d/dx sum x^3 = 3 x^2, off by 1e-5 relative
    assert not gradcheck(lambda v: float(np.sum(v ** 3)), x, slightly_off).passed
    assert gradcheck(lambda v: float(np.sum(v ** 3)), x, slightly_off, tol=1e-4).passed


def test_gradcheck_of_an_empty_array_passes_trivially():
    report = gradcheck(lambda v: 0.0, np.zeros((0, 3)), np.zeros((0, 3)))
    assert report.passed and report.max_rel_error == 0.0


def test_relative_error():
    np.testing.assert_array_equal(relative_error(np.array([1.0, -2.0, 0.0]), np.array([1.0, -2.0, 0.0])), [0, 0, 0])
    np.testing.assert_allclose(relative_error(np.array([3.0, 1.0]), np.array([-3.0, 3.0])), [1.0, 0.5])
    assert relative_error(1e-13, 0.0) == pytest.approx(1e-13 / 1e-12)  # eps keeps 0/0 away
    assert relative_error(np.zeros((2, 2), np.float32), np.zeros((2, 2))).dtype == np.float64


# ---------------------------------------------------------------- errors


def test_numerical_gradient_rejects_a_non_callable():
    with pytest.raises(TypeError, match=r"^numerical_gradient: argument 'f' must be callable; received int 3"):
        numerical_gradient(3, np.zeros(2))


@pytest.mark.parametrize("x, received", [
    (np.array([1, 2]), r"array of shape \(2,\) and dtype int64"),
    ([1.0, 2.0], r"list \[1.0, 2.0\]"),
    (None, r"None"),
])
def test_numerical_gradient_needs_a_float_array(x, received):
    with pytest.raises(TypeError, match=rf"^numerical_gradient: argument 'x' must be a float ndarray .*received {received}"):
        numerical_gradient(lambda v: 0.0, x)


def test_numerical_gradient_names_the_bad_key():
    with pytest.raises(TypeError, match=r"^numerical_gradient: argument 'x\['b'\]' must be a float ndarray.*"
                                        r"received array of shape \(2,\) and dtype int64"):
        numerical_gradient(lambda p: 0.0, {"W": np.zeros(2), "b": np.zeros(2, dtype=int)})


def test_gradcheck_analytic_missing_a_key():
    params = {"W": np.ones(2), "b": np.ones(1)}
    with pytest.raises(ValueError, match=r"^gradcheck: argument 'analytic' is missing key\(s\) \['b'\]; "
                                         r"expected keys \['W', 'b'\], received keys \['W'\]"):
        gradcheck(lambda p: float(p["W"].sum() + p["b"].sum()), params, {"W": np.ones(2)})
    with pytest.raises(TypeError, match=r"^gradcheck: argument 'analytic' must be a dict; received list"):
        gradcheck(lambda p: float(p["W"].sum() + p["b"].sum()), params, [np.ones(2), np.ones(1)])


def test_gradcheck_analytic_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"^gradcheck: argument 'analytic' must have shape \(2, 3\); "
                                         r"received shape \(3, 2\)"):
        gradcheck(lambda v: float(v.sum()), np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"^gradcheck: argument 'analytic\['W'\]' must have shape \(2,\); "
                                         r"received shape \(3,\)"):
        gradcheck(lambda p: float(p["W"].sum()), {"W": np.ones(2)}, {"W": np.ones(3)})


@pytest.mark.parametrize("analytic, received", [
    (np.array(["a", "b"]), "dtype <U1"),
    (None, "None of dtype object"),
    (np.array([True, False]), "dtype bool"),
])
def test_gradcheck_analytic_must_be_numeric(analytic, received):
    with pytest.raises(TypeError, match=rf"^gradcheck: argument 'analytic' must be a real numeric array.*{received}"):
        gradcheck(lambda v: float(v.sum()), np.ones(2), analytic)


def test_relative_error_errors():
    with pytest.raises(ValueError, match=r"^relative_error: arguments 'a' and 'b' must have the same shape; "
                                         r"received \(2,\) and \(3,\)"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match=r"^relative_error: argument 'b' must be a real numeric array.*dtype <U1"):
        relative_error(np.ones(1), np.array(["x"]))
