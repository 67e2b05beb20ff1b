"""helpers.layers (affine and dense layers with the (out, cache) API) and the newer options of
helpers.mlp (an output activation, residual connections, the cache format): forward passes against
loops and explicit formulas, every backward against central differences, errors on bad input."""
import math

import numpy as np
import pytest

from helpers.activations import ACTIVATIONS
from helpers.gradcheck import gradcheck
from helpers.layers import affine_backward, affine_forward, dense_backward, dense_forward
from helpers.mlp import init_mlp, mlp_backward, mlp_forward

SCALAR = {"sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)), "tanh": math.tanh, "relu": lambda v: max(v, 0.0),
          "identity": lambda v: v}
SHAPES = [(3, 2, 4), (5, 3, 1), (1, 4, 3), (4, 1, 2), (1, 1, 1)]  # (n_in, n_out, N)


def random_layer(n_in, n_out, N, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_in, N)), rng.normal(size=(n_out, n_in)), rng.normal(size=(n_out, 1))


def affine_by_loops(a, W, b):
    n_out, N = W.shape[0], a.shape[1]
    return np.array([[math.fsum(W[i, j] * a[j, n] for j in range(a.shape[0])) + b[i, 0] for n in range(N)]
                     for i in range(n_out)])


# ---------------------------------------------------------------- affine layer


@pytest.mark.parametrize("n_in, n_out, N", SHAPES)
def test_affine_forward_equals_loops_and_caches_its_inputs(n_in, n_out, N):
    a, W, b = random_layer(n_in, n_out, N, seed=n_in * 10 + N)
    z, cache = affine_forward(a, W, b)
    assert z.shape == (n_out, N)
    np.testing.assert_allclose(z, affine_by_loops(a, W, b), rtol=1e-12, atol=1e-14)
    a_cached, W_cached = cache  # the documented cache (a, W), which the checks of notebook 02 pass in
    np.testing.assert_array_equal(a_cached, a)
    np.testing.assert_array_equal(W_cached, W)


def test_affine_backward_equals_the_formulas_by_hand():
    a = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])      # (3, 2)
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])       # (2, 3)
    dz = np.array([[1.0, -2.0], [0.5, 4.0]])                # (2, 2)
    da, dW, db = affine_backward(dz, (a, W))
    # dW[i, j] = sum_n dz[i, n] a[j, n];  db[i] = sum_n dz[i, n];  da[j, n] = sum_i W[i, j] dz[i, n]
    np.testing.assert_allclose(dW, [[1 * 1 + -2 * 2, 0 + -2 * -1, 3 + -2 * 0.5],
                                    [0.5 * 1 + 4 * 2, 0 + 4 * -1, 0.5 * 3 + 4 * 0.5]])
    np.testing.assert_allclose(db, [[-1.0], [4.5]])
    np.testing.assert_allclose(da, [[1 * 1 + 2 * 0.5, 1 * -2 + 2 * 4], [0 + 0.5, 0 + 4.0], [-1.0, 2.0]])


@pytest.mark.parametrize("n_in, n_out, N", SHAPES)
def test_affine_backward_matches_central_differences(n_in, n_out, N):
    a, W, b = random_layer(n_in, n_out, N, seed=N)
    R = np.random.default_rng(99).normal(size=(n_out, N))  # J = sum(R * z), so dJ/dz = R
    inputs = {"a": a, "W": W, "b": b}

    def J(p):
        return float(np.sum(R * affine_forward(p["a"], p["W"], p["b"])[0]))

    da, dW, db = affine_backward(R, affine_forward(a, W, b)[1])
    assert (da.shape, dW.shape, db.shape) == (a.shape, W.shape, b.shape)
    for key, grad in (("a", da), ("W", dW), ("b", db)):
        report = gradcheck(lambda q: J({**inputs, key: q}), inputs[key], grad)
        assert report.passed, f"d{key}: {report}"


def test_a_bias_gradient_not_summed_over_the_batch_is_caught():
    # the gradient check above can fail: db = dz (not summed) has the wrong shape, db / N the wrong value
    a, W, b = random_layer(3, 2, 4, seed=0)
    R = np.ones((2, 4))
    report = gradcheck(lambda q: float(np.sum(R * affine_forward(a, W, q)[0])), b, R[:, :1])
    assert not report.passed


# ---------------------------------------------------------------- dense layer


@pytest.mark.parametrize("activation", sorted(SCALAR))
def test_dense_forward_equals_f_of_the_affine_map_elementwise(activation):
    a, W, b = random_layer(3, 4, 5, seed=1)
    out, (affine_cache, z, name) = dense_forward(a, W, b, activation)
    z_loops = affine_by_loops(a, W, b)
    f = SCALAR[activation]
    np.testing.assert_allclose(out, [[f(v) for v in row] for row in z_loops], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(z, z_loops, rtol=1e-12, atol=1e-14)
    assert name == activation and affine_cache[1] is not None


def test_dense_forward_defaults_to_tanh():
    a, W, b = random_layer(2, 3, 4, seed=2)
    np.testing.assert_allclose(dense_forward(a, W, b)[0], np.tanh(W @ a + b))


def test_every_activation_is_tested():
    assert set(SCALAR) == set(ACTIVATIONS)


@pytest.mark.parametrize("activation", sorted(SCALAR))
@pytest.mark.parametrize("n_in, n_out, N", [(3, 4, 5), (2, 1, 1), (1, 3, 2)])
def test_dense_backward_matches_central_differences(activation, n_in, n_out, N):
    a, W, b = random_layer(n_in, n_out, N, seed=7 + N)
    assert np.abs(W @ a + b).min() > 1e-3, "no pre-activation at the kink of relu"
    R = np.random.default_rng(5).normal(size=(n_out, N))
    inputs = {"a": a, "W": W, "b": b}

    def J(p):
        return float(np.sum(R * dense_forward(p["a"], p["W"], p["b"], activation)[0]))

    da, dW, db = dense_backward(R, dense_forward(a, W, b, activation)[1])
    for key, grad in (("a", da), ("W", dW), ("b", db)):
        report = gradcheck(lambda q: J({**inputs, key: q}), inputs[key], grad)
        assert report.passed, f"{activation} d{key}: {report}"


def test_layers_do_not_modify_their_inputs():
    a, W, b = random_layer(3, 2, 4, seed=3)
    dout = np.ones((2, 4))
    copies = [v.copy() for v in (a, W, b, dout)]
    _, cache = dense_forward(a, W, b, "relu")
    dense_backward(dout, cache)
    affine_backward(dout, affine_forward(a, W, b)[1])
    for before, after in zip(copies, (a, W, b, dout)):
        np.testing.assert_array_equal(before, after)


def test_layer_errors_name_the_function_argument_expected_and_received():
    a, W, b = random_layer(3, 2, 4, seed=0)
    with pytest.raises(ValueError, match=r"^affine_forward: argument 'W' must have shape \(\?, 3\); "
                                         r"received shape \(2, 4\)"):
        affine_forward(a, np.zeros((2, 4)), b)
    with pytest.raises(ValueError, match=r"^affine_forward: argument 'b' must have shape \(2, 1\); "
                                         r"received shape \(3, 1\)"):
        affine_forward(a, W, np.zeros((3, 1)))
    # a bias of shape (2,) would broadcast along the wrong axis, silently
    with pytest.raises(ValueError, match=r"^affine_forward: argument 'b' must be 2-D; received shape \(2,\)"):
        affine_forward(a, W, np.zeros(2))
    with pytest.raises(ValueError, match=r"^affine_forward: argument 'a' must be 2-D; received shape \(3,\)"):
        affine_forward(np.zeros(3), W, b)
    _, cache = affine_forward(a, W, b)
    with pytest.raises(ValueError, match=r"^affine_backward: argument 'dz' must have shape \(2, 4\); "
                                         r"received shape \(4, 2\)"):
        affine_backward(np.zeros((4, 2)), cache)
    _, cache = dense_forward(a, W, b)
    with pytest.raises(ValueError, match=r"^dense_backward: argument 'da_out' must have shape \(2, 4\); "
                                         r"received shape \(2, 3\)"):
        dense_backward(np.zeros((2, 3)), cache)
    with pytest.raises(ValueError, match=r"^get_activation: argument 'name' must be one of .*received 'softplus'"):
        dense_forward(a, W, b, "softplus")


# ---------------------------------------------------------------- mlp: output activation and residual connections


def random_params(sizes, seed):
    rng = np.random.default_rng(seed)
    params = init_mlp(sizes, seed=seed)
    for l in range(1, len(sizes)):
        params[f"b{l}"] = rng.normal(scale=0.5, size=params[f"b{l}"].shape)
    return params


def sigmoid_by_hand(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_mlp_output_activation_is_applied_to_the_last_layer_only():
    p = random_params([2, 4, 3, 1], seed=1)
    X = np.random.default_rng(1).normal(size=(2, 5))
    h1 = np.maximum(p["W1"] @ X + p["b1"], 0)
    h2 = np.maximum(p["W2"] @ h1 + p["b2"], 0)
    z3 = p["W3"] @ h2 + p["b3"]
    np.testing.assert_allclose(mlp_forward(p, X, "relu", output="sigmoid")[0], sigmoid_by_hand(z3), rtol=1e-13)
    np.testing.assert_allclose(mlp_forward(p, X, "relu", output="tanh")[0], np.tanh(z3), rtol=1e-13)
    np.testing.assert_allclose(mlp_forward(p, X, "relu")[0], z3, rtol=1e-13)  # default: identity, scores


def test_mlp_residual_adds_the_input_where_sizes_agree_but_not_on_the_last_layer():
    p = random_params([3, 4, 4, 4, 4], seed=2)  # layers 2 and 3 have equal sizes; layer 4 too, but it is the output
    X = np.random.default_rng(2).normal(size=(3, 6))
    a1 = np.tanh(p["W1"] @ X + p["b1"])        # 3 -> 4: no skip
    a2 = a1 + np.tanh(p["W2"] @ a1 + p["b2"])  # a^l = a^{l-1} + f(z^l)
    a3 = a2 + np.tanh(p["W3"] @ a2 + p["b3"])
    out = p["W4"] @ a3 + p["b4"]               # the output layer never skips
    got, cache = mlp_forward(p, X, "tanh", residual=True)
    np.testing.assert_allclose(got, out, rtol=1e-12)
    assert cache["skip"] == [False, False, True, True, False]
    plain, _ = mlp_forward(p, X, "tanh")
    assert not np.allclose(plain, got)
    # sizes that never agree: residual=True changes nothing
    q = random_params([2, 3, 4, 1], seed=3)
    Xq = np.random.default_rng(3).normal(size=(2, 5))
    np.testing.assert_array_equal(mlp_forward(q, Xq, residual=True)[0], mlp_forward(q, Xq)[0])


def test_mlp_cache_has_the_documented_format():
    p = random_params([3, 4, 4, 2], seed=4)
    X = np.random.default_rng(4).normal(size=(3, 5))
    out, cache = mlp_forward(p, X, "relu", output="sigmoid", residual=True)
    assert set(cache) >= {"params", "a", "z", "f", "skip"}
    assert len(cache["a"]) == len(cache["z"]) == len(cache["f"]) == len(cache["skip"]) == 4  # indexed l = 0..L
    assert cache["z"][0] is None and cache["f"] == [None, "relu", "relu", "sigmoid"]
    assert cache["skip"] == [False, False, True, False]
    np.testing.assert_array_equal(cache["a"][0], X)
    z1 = p["W1"] @ X + p["b1"]
    a1 = np.maximum(z1, 0)
    z2 = p["W2"] @ a1 + p["b2"]
    a2 = a1 + np.maximum(z2, 0)
    z3 = p["W3"] @ a2 + p["b3"]
    for got, want in zip(cache["z"][1:] + cache["a"][1:], [z1, z2, z3, a1, a2, sigmoid_by_hand(z3)]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(cache["a"][3], out)
    assert all(np.array_equal(cache["params"][k], p[k]) for k in p) and set(cache["params"]) == set(p)


def mlp_gradcheck(sizes, activation, output, residual, seed):
    p = random_params(sizes, seed)
    rng = np.random.default_rng(seed + 100)
    X = rng.normal(size=(sizes[0], 4))
    G = rng.normal(size=(sizes[-1], 4))  # J = sum(G * out), dJ/dout = G

    def J(q):
        return float(np.sum(G * mlp_forward(q, X, activation, output, residual)[0]))

    grads = mlp_backward(G, mlp_forward(p, X, activation, output, residual)[1])
    assert sorted(grads) == sorted(p) and all(grads[k].shape == p[k].shape for k in p)
    return {k: gradcheck(lambda q: J({**p, k: q}), p[k], grads[k]) for k in p}


@pytest.mark.parametrize("output", ["sigmoid", "tanh"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_mlp_backward_with_an_output_activation_matches_central_differences(activation, output):
    for key, report in mlp_gradcheck([3, 5, 4, 2], activation, output, False, seed=5).items():
        assert report.passed, f"{activation}/{output} d{key}: {report}"


@pytest.mark.parametrize("sizes", [[3, 4, 4, 2], [2, 3, 3, 3, 3, 1], [4, 4, 4]], ids=str)
@pytest.mark.parametrize("activation, output", [("tanh", "identity"), ("relu", "sigmoid"), ("sigmoid", "tanh")])
def test_mlp_backward_with_residual_connections_matches_central_differences(sizes, activation, output):
    for key, report in mlp_gradcheck(sizes, activation, output, True, seed=len(sizes)).items():
        assert report.passed, f"residual {sizes} {activation}/{output} d{key}: {report}"


def test_a_residual_backward_without_the_skip_gradient_is_caught():
    # the check above can fail: the backward of the plain network, used for the residual one, is wrong
    p = random_params([3, 4, 4, 2], seed=6)
    rng = np.random.default_rng(6)
    X, G = rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
    _, cache = mlp_forward(p, X, "tanh", residual=True)
    cache = {**cache, "skip": [False] * len(cache["skip"])}  # forget the skip in the backward pass only
    grads = mlp_backward(G, cache)
    report = gradcheck(lambda q: float(np.sum(G * mlp_forward(q, X, "tanh", residual=True)[0])), p, grads)
    assert not report.passed and report.key in ("W1", "b1")


def test_mlp_unknown_output_activation():
    with pytest.raises(ValueError, match=r"^get_activation: argument 'name' must be one of .*received 'softmax'"):
        mlp_forward(init_mlp([2, 1]), np.zeros((2, 3)), output="softmax")
