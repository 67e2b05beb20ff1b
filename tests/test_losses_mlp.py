"""helpers.losses and helpers.mlp: loss values against independent formulas, every gradient
against central differences, training on XOR, and errors on bad input."""
import math
import re
import warnings

import numpy as np
import pytest

from helpers import data
from helpers.gradcheck import gradcheck
from helpers.losses import bce_with_logits, mse
from helpers.mlp import LOSSES, init_mlp, mlp_backward, mlp_forward, num_layers, train_mlp


# ---------------------------------------------------------------- losses


def bce_by_hand(s, y):
    """-(y log sigma(s) + (1-y) log(1 - sigma(s))), with log sigma(s) = -log(1 + e^-s) in math."""
    def log_sigmoid(v):
        return -math.log1p(math.exp(-v)) if v >= 0 else v - math.log1p(math.exp(v))
    return -math.fsum(yi * log_sigmoid(si) + (1 - yi) * log_sigmoid(-si) for si, yi in zip(s, y)) / len(s)


def test_bce_with_logits_values():
    J, grad = bce_with_logits(np.array([[0.0]]), np.array([[1.0]]))
    assert J == pytest.approx(math.log(2), rel=1e-15) and isinstance(J, float)
    np.testing.assert_allclose(grad, [[-0.5]])
    s = np.array([[-2.0, -0.5, 0.0, 1.5, 3.0, 7.0]])
    y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 1.0]])
    J, grad = bce_with_logits(s, y)
    assert J == pytest.approx(bce_by_hand(s[0], y[0]), rel=1e-14)
    sig = 1 / (1 + np.exp(-s))
    np.testing.assert_allclose(grad, (sig - y) / 6, rtol=1e-13)
    assert grad.shape == (1, 6)


def test_bce_with_logits_finite_for_extreme_scores():
    s = np.array([[-1e4, -1000.0, 1000.0, 1e4]])
    y = np.array([[1.0, 0.0, 0.0, 1.0]])
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        J, grad = bce_with_logits(s, y)
    # the two confidently wrong examples cost 1e4 and 1000, the two right ones (almost) 0
    assert J == pytest.approx((1e4 + 1000.0) / 4, rel=1e-15)
    np.testing.assert_allclose(grad, [[-0.25, 0.0, 0.25, 0.0]], atol=1e-300)


def test_mse_values():
    y_hat = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    y = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    J, grad = mse(y_hat, y)
    assert J == pytest.approx((0 + 4 + 4 + 1) / 2 / 3) and isinstance(J, float)
    np.testing.assert_allclose(grad, (y_hat - y) / 3)
    assert mse(y, y)[0] == 0.0


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_loss_gradients_match_central_differences(loss):
    rng = np.random.default_rng(0)
    s = rng.normal(scale=2, size=(1, 7)) if loss == "bce" else rng.normal(size=(3, 7))
    y = (rng.random(size=s.shape) < 0.5).astype(float) if loss == "bce" else rng.normal(size=s.shape)
    fn = LOSSES[loss]
    report = gradcheck(lambda v: fn(v, y)[0], s, fn(s, y)[1])
    assert report.passed, str(report)


def test_loss_errors():
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: argument 'y' must have shape \(1, 3\); "
                                         r"received shape \(1, 2\)"):
        bce_with_logits(np.zeros((1, 3)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: argument 's' must be 2-D; received shape \(3,\)"):
        bce_with_logits(np.zeros(3), np.zeros((1, 3)))
    with pytest.raises(TypeError, match=r"^binary_cross_entropy: argument 'y' must be a real numeric array.*dtype bool"):
        bce_with_logits(np.zeros((1, 2)), np.array([[True, False]]))
    with pytest.raises(ValueError, match=r"^mse: argument 'y' must have shape \(2, 3\); received shape \(3, 2\)"):
        mse(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match=r"^mse: argument 'y_hat' must be a real numeric array.*received None"):
        mse(None, np.zeros((1, 1)))


# ---------------------------------------------------------------- init_mlp, num_layers, mlp_forward


def test_init_mlp_shapes_scale_and_determinism():
    params = init_mlp([3, 5, 4, 2], seed=7)
    assert sorted(params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert [params[f"W{l}"].shape for l in (1, 2, 3)] == [(5, 3), (4, 5), (2, 4)]
    assert [params[f"b{l}"].shape for l in (1, 2, 3)] == [(5, 1), (4, 1), (2, 1)]
    assert all(np.all(params[f"b{l}"] == 0) for l in (1, 2, 3))
    again, other = init_mlp([3, 5, 4, 2], seed=7), init_mlp([3, 5, 4, 2], seed=8)
    assert all(np.array_equal(params[k], again[k]) for k in params)
    assert not np.array_equal(params["W1"], other["W1"])
    big = init_mlp([400, 300], seed=0)["W1"]  # W ~ N(0, 1/n_in)
    assert big.std() == pytest.approx(1 / math.sqrt(400), rel=0.02)
    assert num_layers(params) == 3


def test_init_mlp_errors():
    for sizes in ([3], [], [3, 0, 1]):
        with pytest.raises(ValueError, match=rf"^init_mlp: argument 'sizes' must list at least two positive layer "
                                             rf"sizes; received {re.escape(str(sizes))}"):
            init_mlp(sizes)


def test_mlp_forward_equals_the_formula():
    rng = np.random.default_rng(1)
    params = {"W1": rng.normal(size=(4, 2)), "b1": rng.normal(size=(4, 1)),
              "W2": rng.normal(size=(3, 4)), "b2": rng.normal(size=(3, 1)),
              "W3": rng.normal(size=(1, 3)), "b3": rng.normal(size=(1, 1))}
    X = rng.normal(size=(2, 6))
    out, _ = mlp_forward(params, X, "tanh")
    h1 = np.tanh(params["W1"] @ X + params["b1"])
    h2 = np.tanh(params["W2"] @ h1 + params["b2"])
    np.testing.assert_allclose(out, params["W3"] @ h2 + params["b3"], rtol=1e-13)  # no activation on the output
    out_relu, _ = mlp_forward(params, X, "relu")
    h1 = np.maximum(params["W1"] @ X + params["b1"], 0)
    h2 = np.maximum(params["W2"] @ h1 + params["b2"], 0)
    np.testing.assert_allclose(out_relu, params["W3"] @ h2 + params["b3"], rtol=1e-13)
    one_layer, _ = mlp_forward({"W1": params["W1"], "b1": params["b1"]}, X, "sigmoid")
    np.testing.assert_allclose(one_layer, params["W1"] @ X + params["b1"], rtol=1e-14)


# ---------------------------------------------------------------- mlp_backward by finite differences


def random_params(sizes, rng):
    params = init_mlp(sizes, seed=int(rng.integers(1000)))
    for l in range(1, len(sizes)):
        params[f"b{l}"] = rng.normal(scale=0.5, size=params[f"b{l}"].shape)
    return params


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("sizes", [[3, 2], [3, 4, 2], [2, 5, 4, 3], [4, 3, 3, 3, 1]], ids=lambda s: f"L={len(s) - 1}")
def test_mlp_backward_matches_central_differences(activation, sizes):
    rng = np.random.default_rng(len(sizes))
    params = random_params(sizes, rng)
    X = rng.normal(size=(sizes[0], 5))
    G = rng.normal(size=(sizes[-1], 5))  # J = sum(G * out), so dJ/dout = G

    def J(p):
        return float(np.sum(G * mlp_forward(p, X, activation)[0]))

    _, cache = mlp_forward(params, X, activation)
    grads = mlp_backward(G, cache)
    assert sorted(grads) == sorted(params)
    for key in params:
        assert grads[key].shape == params[key].shape
    for key in params:  # every parameter on its own, so a wrong one is named
        report = gradcheck(lambda q: J({**params, key: q}), params[key], grads[key])
        assert report.passed, f"{activation} {sizes} d{key}: {report}"


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_mlp_backward_through_a_loss(loss):
    rng = np.random.default_rng(5)
    params = random_params([2, 6, 1], rng)
    X, y = data.make_xor(n=12, seed=3)
    fn = LOSSES[loss]

    def J(p):
        return fn(mlp_forward(p, X, "tanh")[0], y)[0]

    out, cache = mlp_forward(params, X, "tanh")
    report = gradcheck(J, params, mlp_backward(fn(out, y)[1], cache))
    assert report.passed, str(report)


def test_a_wrong_backward_is_caught_and_named():
    rng = np.random.default_rng(6)
    params = random_params([3, 4, 2], rng)
    X, G = rng.normal(size=(3, 5)), rng.normal(size=(2, 5))
    _, cache = mlp_forward(params, X, "sigmoid")
    grads = mlp_backward(G, cache)
    grads["b1"] = grads["b1"] * 2  # e.g. a delta of the wrong size
    report = gradcheck(lambda p: float(np.sum(G * mlp_forward(p, X, "sigmoid")[0])), params, grads)
    assert not report.passed and report.key == "b1"


def test_mlp_backward_leaves_params_unchanged():
    rng = np.random.default_rng(7)
    params = random_params([2, 3, 1], rng)
    before = {k: v.copy() for k, v in params.items()}
    out, cache = mlp_forward(params, rng.normal(size=(2, 4)))
    mlp_backward(np.ones_like(out), cache)
    assert all(np.array_equal(params[k], before[k]) for k in params)


# ---------------------------------------------------------------- train_mlp


def accuracy(params, X, y, activation):
    return float(np.mean((mlp_forward(params, X, activation)[0] > 0) == (y > 0.5)))


def test_train_mlp_tanh_solves_xor_and_a_linear_model_cannot():
    X, y = data.make_xor(n=200, seed=0)
    params, losses = train_mlp(X, y, [2, 8, 1], activation="tanh", steps=2000, lr=0.5, seed=0)
    assert losses.shape == (2000,)
    assert losses[-1] < 0.05 < 0.5 < losses[0]
    assert np.all(np.diff(losses) < 1e-12), "full-batch descent with this step size decreases the loss every step"
    assert accuracy(params, X, y, "tanh") == 1.0
    for sizes in ([2, 1], [2, 8, 1]):  # with the identity, depth adds nothing: still one line
        linear, linear_losses = train_mlp(X, y, sizes, activation="identity", steps=2000, lr=0.5, seed=0)
        assert accuracy(linear, X, y, "identity") <= 0.78  # a line misclassifies at least one of the four clusters
        assert linear_losses[-1] > 0.6  # near log 2: barely better than a coin


def test_train_mlp_regression_with_mse():
    x, y = data.make_wave(n=60, seed=1)
    params, losses = train_mlp(x, y, [1, 16, 1], activation="tanh", loss="mse", steps=1500, lr=0.1, seed=0)
    assert losses[-1] < 0.25 * losses[0]
    pred, _ = mlp_forward(params, x, "tanh")
    assert mse(pred, y)[0] == pytest.approx(losses[-1], rel=0.05)


def test_train_mlp_is_deterministic_for_a_seed():
    X, y = data.make_xor(n=40, seed=0)
    a = train_mlp(X, y, [2, 4, 1], steps=20, seed=3)
    b = train_mlp(X, y, [2, 4, 1], steps=20, seed=3)
    c = train_mlp(X, y, [2, 4, 1], steps=20, seed=4)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


# ---------------------------------------------------------------- mlp errors


def test_mlp_forward_params_missing_a_key():
    params = init_mlp([2, 3, 1])
    del params["b2"]
    with pytest.raises(ValueError, match=r"^mlp_forward: argument 'params' is missing key\(s\) \['b2'\]; expected "
                                         r"keys \['W1', 'W2', 'b1', 'b2'\], received keys \['W1', 'W2', 'b1'\]"):
        mlp_forward(params, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"^mlp_forward: argument 'params' is missing key\(s\) \['W1', 'b1'\]"):
        mlp_forward({}, np.zeros((2, 4)))
    with pytest.raises(TypeError, match=r"^mlp_forward: argument 'params' must be a dict; received None"):
        mlp_forward(None, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"^num_layers: argument 'params' is missing key\(s\) \['b2'\]"):
        num_layers(params)


def test_mlp_forward_wrong_shapes():
    params = init_mlp([2, 3, 1])
    with pytest.raises(ValueError, match=r"^mlp_forward: argument 'X' must have shape \(2, \?\); "
                                         r"received shape \(3, 4\)"):
        mlp_forward(params, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"^mlp_forward: argument 'X' must be 2-D; received shape \(2,\)"):
        mlp_forward(params, np.zeros(2))
    # a bias of shape (3,) would broadcast along the batch, silently, when N = 3
    with pytest.raises(ValueError, match=r"^mlp_forward: argument 'params\['b1'\]' must be 2-D; "
                                         r"received shape \(3,\)"):
        mlp_forward({**params, "b1": np.zeros(3)}, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"^mlp_forward: argument 'params\['b2'\]' must have shape \(1, 1\); "
                                         r"received shape \(3, 1\)"):
        mlp_forward({**params, "b2": np.zeros((3, 1))}, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"^mlp_forward: argument 'params\['W2'\]' must have shape \(\?, 3\); "
                                         r"received shape \(1, 4\)"):
        mlp_forward({**params, "W2": np.zeros((1, 4))}, np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"^mlp_forward: argument 'params\['W1'\]' must be a real numeric array"):
        mlp_forward({**params, "W1": "weights"}, np.zeros((2, 3)))


def test_mlp_backward_wrong_dout_shape():
    params = init_mlp([2, 3, 1])
    _, cache = mlp_forward(params, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"^mlp_backward: argument 'dout' must have shape \(1, 4\); "
                                         r"received shape \(1, 3\)"):
        mlp_backward(np.zeros((1, 3)), cache)
    with pytest.raises(ValueError, match=r"^mlp_backward: argument 'dout' must have shape \(1, 4\); "
                                         r"received shape \(4, 1\)"):
        mlp_backward(np.zeros((4, 1)), cache)


def test_unknown_activation_and_loss_names():
    params = init_mlp([2, 1])
    X, y = np.zeros((2, 3)), np.zeros((1, 3))
    with pytest.raises(ValueError, match=r"^get_activation: argument 'name' must be one of .*received 'softplus'"):
        mlp_forward(params, X, activation="softplus")
    with pytest.raises(ValueError, match=r"^train_mlp: argument 'loss' must be one of \['bce', 'mse'\]; "
                                         r"received 'hinge'"):
        train_mlp(X, y, [2, 1], loss="hinge")


def test_mlp_accepts_nested_lists_as_parameters_in_both_passes():
    params = {"W1": [[1.0, -1.0]], "b1": [[0.5]]}
    out, cache = mlp_forward(params, np.array([[2.0], [1.0]]), output="identity")
    np.testing.assert_allclose(out, [[1.5]])  # 1*2 - 1*1 + 0.5
    grads = mlp_backward(np.ones((1, 1)), cache)
    np.testing.assert_allclose(grads["W1"], [[2.0, 1.0]])
    np.testing.assert_allclose(grads["b1"], [[1.0]])
