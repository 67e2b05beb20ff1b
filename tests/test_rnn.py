"""helpers.rnn: the step and the sequence forward against element-by-element loops, every backward (step,
sequence, all three activations) against central differences, dtypes kept, the cell interface, the
gradient norms through time against an explicit product of Jacobian matrices, and argument errors."""
import math

import numpy as np
import pytest

from helpers import rnn
from helpers.cells import get_cell
from helpers.gradcheck import gradcheck

ACTIVATIONS = {"tanh": math.tanh, "relu": lambda z: max(z, 0.0), "identity": lambda z: z}


def random_params(D=3, H=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {"Wx": rng.normal(size=(H, D)).astype(dtype), "Wh": rng.normal(scale=0.6, size=(H, H)).astype(dtype),
            "b": rng.normal(size=(H, 1)).astype(dtype)}


def step_by_loops(x, h_prev, params, f):
    """h[i, n] = f(sum_j Wh[i, j] h_prev[j, n] + sum_k Wx[i, k] x[k, n] + b[i]), one element at a time."""
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    H, N = h_prev.shape
    h = np.zeros((H, N))
    for n in range(N):
        for i in range(H):
            z = math.fsum([Wh[i, j] * h_prev[j, n] for j in range(H)] + [Wx[i, k] * x[k, n] for k in range(len(x))])
            h[i, n] = f(z + b[i, 0])
    return h


def forward_by_loops(xs, h0, params, f):
    hs, h = [], h0
    for x in xs:
        h = step_by_loops(x, h, params, f)
        hs.append(h)
    return np.array(hs)


# ---------------------------------------------------------------- init


def test_init_shapes_dtype_orthogonal_recurrence_and_seeds():
    p = rnn.init_rnn(5, 8, rng=3, scale=0.7)
    assert {k: p[k].shape for k in rnn.KEYS} == {"Wx": (8, 5), "Wh": (8, 8), "b": (8, 1)}
    np.testing.assert_allclose(p["Wh"].T @ p["Wh"], 0.49 * np.eye(8), atol=1e-12)   # every singular value 0.7
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(p["Wh"])), 0.7, rtol=1e-10)
    assert not p["b"].any()
    again, other = rnn.init_rnn(5, 8, rng=np.random.default_rng(3), scale=0.7), rnn.init_rnn(5, 8, rng=4, scale=0.7)
    assert all(np.array_equal(p[k], again[k]) for k in rnn.KEYS)
    assert not np.array_equal(p["Wx"], other["Wx"])
    assert all(np.array_equal(a, b) for a, b in zip(rnn.init_rnn(5, 8).values(), rnn.init_rnn(5, 8, rng=0).values()))
    big = rnn.init_rnn(400, 300, rng=0)
    assert big["Wx"].std() == pytest.approx(400 ** -0.5, rel=0.02)
    assert all(v.dtype == np.float32 for v in rnn.init_rnn(5, 8, dtype=np.float32).values())


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_step_forward_against_a_loop(activation):
    rng = np.random.default_rng(1)
    params, x, h_prev = random_params(), rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    h, cache = rnn.rnn_step_forward(x, h_prev, params, activation)
    np.testing.assert_allclose(h, step_by_loops(x, h_prev, params, ACTIVATIONS[activation]), rtol=1e-12, atol=1e-15)
    assert h.shape == (4, 5)


def test_step_forward_defaults_to_tanh():
    rng = np.random.default_rng(2)
    params, x, h_prev = random_params(), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    np.testing.assert_allclose(rnn.rnn_step_forward(x, h_prev, params)[0],
                               step_by_loops(x, h_prev, params, math.tanh), rtol=1e-12)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("T, N", [(1, 1), (5, 3), (7, 2)])
def test_sequence_forward_against_a_loop(activation, T, N):
    rng = np.random.default_rng(T * 10 + N)
    params, xs, h0 = random_params(), rng.normal(size=(T, 3, N)), rng.normal(size=(4, N))
    hs, _ = rnn.rnn_forward(xs, h0, params, activation)
    assert hs.shape == (T, 4, N)
    np.testing.assert_allclose(hs, forward_by_loops(xs, h0, params, ACTIVATIONS[activation]), rtol=1e-11, atol=1e-14)


def test_sequence_forward_accepts_strided_inputs():
    """The LM hands over E[:, ids] transposed: a (T, D, N) view of a (D, T, N) array."""
    rng = np.random.default_rng(3)
    params, h0 = random_params(), rng.normal(size=(4, 2))
    xs_dtn = rng.normal(size=(3, 6, 2))
    view = xs_dtn.transpose(1, 0, 2)
    np.testing.assert_allclose(rnn.rnn_forward(view, h0, params)[0], forward_by_loops(view, h0, params, math.tanh),
                               rtol=1e-12)


# ---------------------------------------------------------------- backward


def weighted_sum(out, weights):
    return float(np.sum(out * weights))


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_step_backward_against_central_differences(activation):
    rng = np.random.default_rng(4)
    params, x, h_prev = random_params(seed=4), rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    weights = rng.normal(size=(4, 5))            # J = sum(weights * h): dJ/dh = weights

    def J(v):
        return weighted_sum(rnn.rnn_step_forward(v["x"], v["h_prev"], {k: v[k] for k in rnn.KEYS}, activation)[0],
                            weights)

    _, cache = rnn.rnn_step_forward(x, h_prev, params, activation)
    dx, dh_prev, grads = rnn.rnn_step_backward(weights, cache)
    assert set(grads) == set(rnn.KEYS)
    values = {"x": x.copy(), "h_prev": h_prev.copy(), **{k: v.copy() for k, v in params.items()}}
    report = gradcheck(J, values, {"x": dx, "h_prev": dh_prev, **grads})
    assert report.passed, str(report)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("T, N", [(1, 2), (4, 3)])
def test_sequence_backward_against_central_differences(activation, T, N):
    rng = np.random.default_rng(5 + T)
    params, xs, h0 = random_params(seed=T), rng.normal(size=(T, 3, N)), rng.normal(size=(4, N))
    weights = rng.normal(size=(T, 4, N))         # dJ/dh_t from "the output layer" at every step

    def J(v):
        return weighted_sum(rnn.rnn_forward(v["xs"], v["h0"], {k: v[k] for k in rnn.KEYS}, activation)[0], weights)

    _, cache = rnn.rnn_forward(xs, h0, params, activation)
    dxs, dh0, grads = rnn.rnn_backward(weights, cache)
    assert dxs.shape == xs.shape and dh0.shape == h0.shape and {k: g.shape for k, g in grads.items()} == \
        {k: v.shape for k, v in params.items()}
    values = {"xs": xs.copy(), "h0": h0.copy(), **{k: v.copy() for k, v in params.items()}}
    report = gradcheck(J, values, {"xs": dxs, "h0": dh0, **grads})
    assert report.passed, str(report)


def test_sequence_backward_with_the_loss_only_at_the_last_step():
    """dhs is zero except at T: every earlier gradient arrives through the recurrence alone."""
    rng = np.random.default_rng(6)
    params, xs, h0 = random_params(seed=6), rng.normal(size=(5, 3, 2)), rng.normal(size=(4, 2))
    weights = np.zeros((5, 4, 2))
    weights[-1] = rng.normal(size=(4, 2))

    def J(v):
        return weighted_sum(rnn.rnn_forward(xs, h0, v)[0], weights)

    _, cache = rnn.rnn_forward(xs, h0, params)
    _, _, grads = rnn.rnn_backward(weights, cache)
    report = gradcheck(J, {k: v.copy() for k, v in params.items()}, grads)
    assert report.passed, str(report)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_float32_stays_float32(activation):
    rng = np.random.default_rng(7)
    params = random_params(dtype=np.float32)
    xs, h0 = rng.normal(size=(4, 3, 2)).astype(np.float32), np.zeros((4, 2), np.float32)
    h, step_cache = rnn.rnn_step_forward(xs[0], h0, params, activation)
    dx, dh_prev, step_grads = rnn.rnn_step_backward(np.ones_like(h), step_cache)
    hs, cache = rnn.rnn_forward(xs, h0, params, activation)
    dxs, dh0, grads = rnn.rnn_backward(np.ones_like(hs), cache)
    arrays = [h, dx, dh_prev, hs, dxs, dh0, *step_grads.values(), *grads.values()]
    assert all(a.dtype == np.float32 for a in arrays), [a.dtype for a in arrays]


# ---------------------------------------------------------------- the cell interface


def test_cell_interface_is_the_rnn():
    cell = get_cell("rnn")
    assert cell is rnn.CELL and cell.name == "rnn" and cell.keys == rnn.KEYS
    rng = np.random.default_rng(8)
    params = cell.init(3, 4, np.random.default_rng(0), np.float32)
    assert all(v.dtype == np.float32 for v in params.values()) and set(params) == set(rnn.KEYS)
    params = random_params()
    xs, state0 = rng.normal(size=(5, 3, 2)), cell.zero_state(4, 2, np.float64)
    assert np.array_equal(state0, np.zeros((4, 2)))
    hs, cache = cell.forward(xs, state0, params)
    np.testing.assert_allclose(hs, forward_by_loops(xs, state0, params, math.tanh), rtol=1e-12)
    np.testing.assert_array_equal(cell.final_state(cache), hs[-1])
    h, state = cell.step(xs[0], state0, params)
    np.testing.assert_array_equal(h, hs[0])
    np.testing.assert_array_equal(state, hs[0])
    dxs, dstate0, grads = cell.backward(np.ones_like(hs), cache)
    ref = rnn.rnn_backward(np.ones_like(hs), rnn.rnn_forward(xs, state0, params)[1])
    np.testing.assert_array_equal(dxs, ref[0])
    np.testing.assert_array_equal(dstate0, ref[1])


# ---------------------------------------------------------------- gradient norms through time


def jacobian_product_norms(hs, Wh, g, derivative):
    """||dJ/dh_t|| for t = T..1, each from the lecture's product written out with full matrices and formed
    anew for every t:  dJ/dh_t = (dh_{t+1}/dh_t)^T (dh_{t+2}/dh_{t+1})^T ... (dh_T/dh_{T-1})^T g,
    with the Jacobian dh_{s+1}/dh_s = diag(f'(z_{s+1})) Wh (the lecture writes the transposes as
    dh^2/dh^1 . dh^3/dh^2 . ..., the gradient convention)."""
    T = len(hs)
    jacobians = [np.diag(derivative(hs[s])) @ Wh for s in range(T)]   # jacobians[s] = dh_{s+1}/dh_s
    norms = []
    for t in range(T, 0, -1):                                             # 1-based t
        product = np.eye(len(g))
        for s in range(t, T):                                             # (dh_{s+1}/dh_s)^T for s = t..T-1
            product = product @ jacobians[s].T
        norms.append(np.linalg.norm(product @ g))
    return np.array(norms)


DERIVATIVES = {"tanh": lambda h: 1 - h ** 2, "relu": lambda h: (h > 0).astype(float), "identity": np.ones_like}


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("shape", ["(T, H)", "(T, H, 1)"])
def test_gradient_norms_through_time_against_the_jacobian_matrices(activation, shape):
    rng = np.random.default_rng(9)
    T, H = 6, 5
    params = random_params(D=3, H=H, seed=9)
    hs, _ = rnn.rnn_forward(rng.normal(size=(T, 3, 1)), np.zeros((H, 1)), params, activation)
    g = rng.normal(size=H)
    expected = jacobian_product_norms(hs[:, :, 0], params["Wh"], g, DERIVATIVES[activation])
    arg = hs[:, :, 0] if shape == "(T, H)" else hs
    norms = rnn.gradient_norms_through_time(arg, params["Wh"], g, activation)
    assert norms.shape == (T,) and norms[0] == pytest.approx(np.linalg.norm(g))
    np.testing.assert_allclose(norms, expected, rtol=1e-10)
    np.testing.assert_allclose(rnn.gradient_norms_through_time(arg, params["Wh"], g[:, None], activation), expected,
                               rtol=1e-10)


def test_gradient_norms_through_time_match_bptt():
    """With the loss at step T only, rnn_backward's dh0 continues the same product one step further."""
    rng = np.random.default_rng(10)
    params, xs = random_params(seed=10), rng.normal(size=(5, 3, 1))
    hs, cache = rnn.rnn_forward(xs, np.zeros((4, 1)), params)
    g = rng.normal(size=(4, 1))
    dhs = np.zeros_like(hs)
    dhs[-1] = g
    _, dh0, _ = rnn.rnn_backward(dhs, cache)
    norms = rnn.gradient_norms_through_time(hs, params["Wh"], g)
    # dJ/dh_1 is norms[-1]; one more transposed Jacobian, through h_1, gives dJ/dh_0
    dh1 = jacobian_product_norms(hs[:, :, 0], params["Wh"], g[:, 0], DERIVATIVES["tanh"])[-1]
    assert norms[-1] == pytest.approx(dh1, rel=1e-12)
    expected_dh0 = g[:, 0]
    for t in range(4, -1, -1):
        expected_dh0 = params["Wh"].T @ ((1 - hs[t, :, 0] ** 2) * expected_dh0)
    np.testing.assert_allclose(dh0[:, 0], expected_dh0, rtol=1e-12)


@pytest.mark.parametrize("radius", [0.5, 1.0, 2.0])
def test_identity_rnn_with_a_scaled_orthogonal_wh_gives_radius_to_the_power_distance(radius):
    Wh = rnn.init_rnn(4, 16, rng=1, scale=radius)["Wh"]
    norms = rnn.gradient_norm_curve(Wh, T=30, activation="identity", seed=2)
    np.testing.assert_allclose(norms, radius ** np.arange(30), rtol=1e-9)


def test_spectral_radius_and_rescaling():
    W = np.random.default_rng(11).normal(size=(20, 20))
    assert rnn.spectral_radius(W) == pytest.approx(np.max(np.abs(np.linalg.eigvals(W))), rel=1e-12)
    scaled = rnn.with_spectral_radius(W, 1.1)
    assert rnn.spectral_radius(scaled) == pytest.approx(1.1, rel=1e-10)
    np.testing.assert_allclose(scaled / W, scaled[0, 0] / W[0, 0])                # W only rescaled
    assert rnn.with_spectral_radius(W.astype(np.float32), 0.5).dtype == np.float32
    assert rnn.spectral_radius(np.array([[0.0, 2.0], [0.0, 0.0]])) == 0.0         # nilpotent: radius 0, norm 2


def test_gradient_norm_curve_is_deterministic_and_vanishes_or_explodes():
    Wh = rnn.with_spectral_radius(np.random.default_rng(12).normal(size=(32, 32)), 0.5)
    first, again = rnn.gradient_norm_curve(Wh, T=40, seed=3), rnn.gradient_norm_curve(Wh, T=40, seed=3)
    np.testing.assert_array_equal(first, again)
    assert first[0] == pytest.approx(1.0) and first[-1] < 1e-8
    big = rnn.with_spectral_radius(np.random.default_rng(12).normal(size=(32, 32)), 2.0)
    assert rnn.gradient_norm_curve(big, T=40, activation="identity", seed=3)[-1] > 1e8


# ---------------------------------------------------------------- argument errors


@pytest.mark.parametrize("call, error, message", [
    (lambda p: rnn.rnn_step_forward(np.zeros((3, 2)), np.zeros((4, 2)), p, "sigmoid"), ValueError,
     r"^rnn_step_forward: argument 'activation' must be one of \['tanh', 'relu', 'identity'\]; received 'sigmoid'"),
    (lambda p: rnn.rnn_step_forward(np.zeros((2, 2)), np.zeros((4, 2)), p), ValueError,
     r"^rnn_step_forward: argument 'params\['Wx'\]' must have shape \(4, 2\); received shape \(4, 3\)"),
    (lambda p: rnn.rnn_step_forward(np.zeros((3, 2)), np.zeros((4, 5)), p), ValueError,
     r"^rnn_step_forward: argument 'h_prev' must have shape \(4, 2\); received shape \(4, 5\)"),
    (lambda p: rnn.rnn_step_forward(np.zeros(3), np.zeros((4, 1)), p), ValueError,
     r"^rnn_step_forward: argument 'x' must be 2-D; received shape \(3,\)"),
    (lambda p: rnn.rnn_step_forward(np.zeros((3, 1)), np.zeros((4, 1)), {"Wx": p["Wx"]}), ValueError,
     r"^rnn_step_forward: argument 'params' is missing key\(s\) \['Wh', 'b'\]"),
    (lambda p: rnn.rnn_forward(np.zeros((3, 2)), np.zeros((4, 2)), p), ValueError,
     r"^rnn_forward: argument 'xs' must be 3-D; received shape \(3, 2\)"),
    (lambda p: rnn.rnn_forward(np.zeros((0, 3, 2)), np.zeros((4, 2)), p), ValueError,
     r"^rnn_forward: argument 'xs' must hold at least one time step"),
    (lambda p: rnn.rnn_forward(np.zeros((2, 3, 2)), np.zeros((4, 1)), p), ValueError,
     r"^rnn_forward: argument 'h0' must have shape \(4, 2\); received shape \(4, 1\)"),
    (lambda p: rnn.rnn_backward(np.zeros((2, 4, 3)), rnn.rnn_forward(np.zeros((2, 3, 2)), np.zeros((4, 2)), p)[1]),
     ValueError, r"^rnn_backward: argument 'dhs' must have shape \(2, 4, 2\); received shape \(2, 4, 3\)"),
    (lambda p: rnn.rnn_step_backward(np.zeros((4, 3)), rnn.rnn_step_forward(np.zeros((3, 2)), np.zeros((4, 2)), p)[1]),
     ValueError, r"^rnn_step_backward: argument 'dh' must have shape \(4, 2\); received shape \(4, 3\)"),
    (lambda p: rnn.gradient_norms_through_time(np.zeros((5, 4)), p["Wh"], np.zeros(3)), ValueError,
     r"^gradient_norms_through_time: argument 'g' must have shape \(4,\) or \(4, 1\); received shape \(3,\)"),
    (lambda p: rnn.gradient_norms_through_time(np.zeros((5, 4, 2)), p["Wh"], np.zeros(4)), ValueError,
     r"^gradient_norms_through_time: argument 'hs' must have shape \(\?, \?, 1\); received shape \(5, 4, 2\)"),
    (lambda p: rnn.gradient_norms_through_time(np.zeros((5, 3)), p["Wh"], np.zeros(3)), ValueError,
     r"^gradient_norms_through_time: argument 'Wh' must have shape \(3, 3\); received shape \(4, 4\)"),
    (lambda p: rnn.init_rnn(3, 0), ValueError, r"^init_rnn: argument 'H' must be a positive integer; received 0"),
    (lambda p: rnn.init_rnn(3, 4, scale=-1.0), ValueError,
     r"^init_rnn: argument 'scale' must be a positive finite number; received -1.0"),
    (lambda p: rnn.init_rnn(3, 4, dtype=np.int64), TypeError,
     r"^init_rnn: argument 'dtype' must be float32 or float64"),
    (lambda p: rnn.init_rnn(3, 4, rng="seed"), TypeError,
     r"^init_rnn: argument 'rng' must be a numpy.random.Generator, a non-negative int seed or None; received str"),
    (lambda p: rnn.with_spectral_radius(np.eye(3), -2), ValueError,
     r"^with_spectral_radius: argument 'radius' must be a non-negative finite number; received -2"),
])
def test_argument_errors_name_the_function_and_argument(call, error, message):
    with pytest.raises(error, match=message):
        call(random_params())
