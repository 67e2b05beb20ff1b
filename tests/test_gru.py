"""helpers.gru: the lecture's GRU (step and sequence) against a plain loop over examples and time
steps written with scalar math, every backward and dJ/dh_k against central differences in float64,
PyTorch's form against a loop written from PyTorch's documented equations and weight layout, the
Cell, float32 kept as float32, initialisation, parameter counts and argument errors."""
import math

import numpy as np
import pytest

from helpers import gru, lstm
from helpers.cells import CELLS, count_parameters, get_cell
from helpers.gradcheck import gradcheck

SIZES = [(5, 3, 4, 2), (1, 2, 3, 1), (3, 1, 1, 4)]  # (T, D, H, N)


def sigma(v):
    return 1.0 / (1.0 + math.exp(-v))


def random_case(T, D, H, N, seed):
    rng = np.random.default_rng(seed)
    params = {key: rng.normal(scale=0.6, size=value.shape) for key, value in gru.init_gru(D, H, seed).items()}
    return params, rng.normal(size=(T, D, N)), rng.normal(size=(H, N))


def dot(M, v, i):
    return math.fsum(M[i, j] * v[j] for j in range(len(v)))


def gru_by_loops(params, xs, h0):
    """hs and the activations {z, r, h_tilde}, each (T, H, N), in the lecture's form, one number at a time."""
    T, D, N = xs.shape
    H = h0.shape[0]
    P = params
    out = {name: np.zeros((T, H, N)) for name in ("h", "z", "r", "h_tilde")}
    for n in range(N):
        h = list(h0[:, n])
        for t in range(T):
            x = xs[t, :, n]
            z = [sigma(dot(P["W_z"], h, k) + dot(P["U_z"], x, k) + P["b_z"][k, 0]) for k in range(H)]
            r = [sigma(dot(P["W_r"], h, k) + dot(P["U_r"], x, k) + P["b_r"][k, 0]) for k in range(H)]
            rh = [r[k] * h[k] for k in range(H)]
            h_tilde = [math.tanh(dot(P["W_h"], rh, k) + dot(P["U_h"], x, k) + P["b_h"][k, 0]) for k in range(H)]
            h = [(1 - z[k]) * h[k] + z[k] * h_tilde[k] for k in range(H)]
            for name, values in (("h", h), ("z", z), ("r", r), ("h_tilde", h_tilde)):
                out[name][t, :, n] = values
    return out


def torch_gru_by_loops(state_dict, xs, h0):
    """hs (T, H, N) from the equations of PyTorch's nn.GRU documentation and its weight layout
    (gates stacked r, z, n in weight_ih_l0 (3H, D), weight_hh_l0 (3H, H), bias_ih_l0, bias_hh_l0)."""
    T, D, N = xs.shape
    H = h0.shape[0]
    W_ih, W_hh, b_ih, b_hh = (state_dict[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
    hs = np.zeros((T, H, N))
    for n in range(N):
        h = list(h0[:, n])
        for t in range(T):
            x = xs[t, :, n]
            r = [sigma(dot(W_ih, x, k) + b_ih[k] + dot(W_hh, h, k) + b_hh[k]) for k in range(H)]
            z = [sigma(dot(W_ih, x, H + k) + b_ih[H + k] + dot(W_hh, h, H + k) + b_hh[H + k]) for k in range(H)]
            m = [2 * H + k for k in range(H)]
            n_ = [math.tanh(dot(W_ih, x, m[k]) + b_ih[m[k]] + r[k] * (dot(W_hh, h, m[k]) + b_hh[m[k]]))
                  for k in range(H)]
            h = [(1 - z[k]) * n_[k] + z[k] * h[k] for k in range(H)]
            hs[t, :, n] = h
    return hs


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)


def check(J, x, analytic):
    report = gradcheck(J, x, analytic)
    assert report.passed, str(report)


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("T, D, H, N", SIZES)
def test_forward_against_loops(T, D, H, N):
    params, xs, h0 = random_case(T, D, H, N, seed=T + 10 * D)
    hs, cache = gru.gru_forward(xs, h0, params)
    expected = gru_by_loops(params, xs, h0)
    assert hs.shape == (T, H, N)
    assert_close(hs, expected["h"])
    acts = gru.gru_activations(cache)
    assert set(acts) == {"z", "r", "h_tilde", "h"}
    for name, value in acts.items():
        assert_close(value, expected[name])


def test_step_forward_and_zero_initial_state():
    params, xs, h0 = random_case(3, 3, 4, 2, seed=1)
    h, _ = gru.gru_step_forward(xs[0], h0, params)
    assert_close(h, gru_by_loops(params, xs[:1], h0)["h"][0])
    hs, _ = gru.gru_forward(xs, None, params)
    assert_close(hs, gru_by_loops(params, xs, 0 * h0)["h"])


def test_update_gate_one_takes_the_candidate_and_zero_keeps_the_state():
    """h_t = (1 - z_t) h_{t-1} + z_t h~_t: with b_z = +-40 the gate saturates."""
    params, xs, h0 = random_case(1, 2, 3, 2, seed=2)
    params["W_z"][:], params["U_z"][:] = 0.0, 0.0
    params["b_z"][:] = -40.0
    np.testing.assert_allclose(gru.gru_step_forward(xs[0], h0, params)[0], h0, rtol=1e-15)
    params["b_z"][:] = 40.0
    h, cache = gru.gru_step_forward(xs[0], h0, params)
    np.testing.assert_allclose(h, gru.gru_activations(cache)["h_tilde"][0], rtol=1e-15)


# ---------------------------------------------------------------- backward against central differences


@pytest.mark.parametrize("T, D, H, N", SIZES)
def test_sequence_backward_against_central_differences(T, D, H, N):
    params, xs, h0 = random_case(T, D, H, N, seed=20 + T)
    dhs = np.random.default_rng(T).normal(size=(T, H, N))

    def J(_):
        return float(np.sum(dhs * gru.gru_forward(xs, h0, params)[0]))

    dxs, dh0, grads = gru.gru_backward(dhs, gru.gru_forward(xs, h0, params)[1])
    assert set(grads) == set(gru.KEYS) and all(grads[k].shape == params[k].shape for k in gru.KEYS)
    check(J, params, grads)
    check(J, xs, dxs)
    check(J, h0, dh0)


def test_step_backward_against_central_differences():
    params, xs, h0 = random_case(1, 3, 4, 2, seed=6)
    dh = np.random.default_rng(6).normal(size=(4, 2))

    def J(_):
        return float(np.sum(dh * gru.gru_step_forward(xs[0], h0, params)[0]))

    dx, dh_prev, grads = gru.gru_step_backward(dh, gru.gru_step_forward(xs[0], h0, params)[1])
    check(J, params, grads)
    check(J, xs[0], dx)
    check(J, h0, dh_prev)


def test_state_gradients_at_every_step_against_central_differences():
    T, D, H, N = 5, 2, 3, 2
    params, xs, h0 = random_case(T, D, H, N, seed=7)
    dhs = np.random.default_rng(7).normal(size=(T, H, N))
    dh_k = gru.gru_state_gradients(dhs, gru.gru_forward(xs, h0, params)[1])
    assert dh_k.shape == (T + 1, H, N)
    states = [h0] + list(gru_by_loops(params, xs, h0)["h"])
    for k in range(T + 1):
        def J_after(h_k, k=k):
            direct = float(np.sum(dhs[k - 1] * h_k)) if k > 0 else 0.0
            later = float(np.sum(dhs[k:] * gru.gru_forward(xs[k:], h_k, params)[0])) if k < T else 0.0
            return direct + later
        check(J_after, states[k].copy(), dh_k[k])


# ---------------------------------------------------------------- PyTorch's form


def test_pytorch_form_follows_pytorch_equations_and_weight_layout():
    params, xs, h0 = random_case(4, 3, 5, 2, seed=8)
    b_hn = np.random.default_rng(8).normal(size=(5, 1))
    state_dict = gru.pytorch_gru_weights(params, b_hn)
    assert {k: v.shape for k, v in state_dict.items()} == {"weight_ih_l0": (15, 3), "weight_hh_l0": (15, 5),
                                                           "bias_ih_l0": (15,), "bias_hh_l0": (15,)}
    hs = gru.gru_forward_pytorch_form(xs, h0, params, b_hn)
    assert_close(hs, torch_gru_by_loops(state_dict, xs, h0))
    assert_close(gru.gru_forward_pytorch_form(xs, h0, params),
                 torch_gru_by_loops(gru.pytorch_gru_weights(params), xs, h0))


def test_pytorch_form_differs_from_the_lecture_for_the_same_weights():
    params, xs, h0 = random_case(4, 3, 5, 2, seed=9)
    difference = np.abs(gru.gru_forward_pytorch_form(xs, h0, params) - gru.gru_forward(xs, h0, params)[0])
    assert difference.max() > 0.1


# ---------------------------------------------------------------- float32, Cell, init, counts


def test_float32_stays_float32_and_agrees_with_float64():
    params, xs, h0 = random_case(4, 3, 5, 2, seed=10)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    hs32, cache32 = gru.gru_forward(xs.astype(np.float32), h0.astype(np.float32), p32)
    dxs32, dh032, grads32 = gru.gru_backward(np.ones(hs32.shape, np.float32), cache32)
    assert hs32.dtype == dxs32.dtype == dh032.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads32.values())
    assert gru.gru_forward_pytorch_form(xs.astype(np.float32), None, p32).dtype == np.float32
    hs64, cache64 = gru.gru_forward(xs, h0, params)
    np.testing.assert_allclose(hs32, hs64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dxs32, gru.gru_backward(np.ones(hs64.shape), cache64)[0], rtol=1e-4, atol=1e-5)
    h, step_cache = gru.gru_step_forward(xs[0].astype(np.float32), None, p32)
    assert h.dtype == np.float32 and all(a.dtype == np.float32 for a in gru.gru_step_backward(h, step_cache)[:2])


def test_cell_interface():
    cell = get_cell("gru")
    assert cell is CELLS["gru"] is gru.CELL and cell.name == "gru" and cell.keys == gru.KEYS
    params, xs, h0 = random_case(4, 3, 2, 3, seed=11)
    hs, cache = cell.forward(xs, h0, params)
    expected = gru_by_loops(params, xs, h0)["h"]
    assert_close(hs, expected)
    assert_close(cell.final_state(cache), expected[-1])
    h, state = cell.step(xs[0], h0, params)
    assert h is state
    assert_close(h, expected[0])
    dhs = np.ones_like(hs)
    dxs, dh0, grads = cell.backward(dhs, cache)
    check(lambda _: float(np.sum(dhs * cell.forward(xs, h0, params)[0])), h0, dh0)
    zero = cell.zero_state(2, 3, np.float32)
    assert zero.shape == (2, 3) and zero.dtype == np.float32 and not zero.any()


def test_init_shapes_scales_and_determinism():
    p = gru.init_gru(D=40, H=60, rng=3)
    assert {k: p[k].shape for k in gru.KEYS} == {**{f"W_{g}": (60, 60) for g in "zrh"},
                                                 **{f"U_{g}": (60, 40) for g in "zrh"},
                                                 **{f"b_{g}": (60, 1) for g in "zrh"}}
    assert not any(p[f"b_{g}"].any() for g in "zrh")
    big = gru.init_gru(D=400, H=300, rng=0)
    assert big["W_h"].std() == pytest.approx(300 ** -0.5, rel=0.02)
    assert big["U_z"].std() == pytest.approx(400 ** -0.5, rel=0.02)
    again = gru.init_gru(40, 60, np.random.default_rng(3))
    assert all(np.array_equal(p[k], again[k]) for k in gru.KEYS)
    assert all(v.dtype == np.float32 for v in gru.init_gru(4, 5, 0, np.float32).values())


def test_count_parameters_the_gru_is_a_quarter_smaller_than_the_lstm():
    for D, H in ((3, 4), (64, 128)):
        sizes = sum(v.size for v in gru.init_gru(D, H, 0).values())
        assert count_parameters("gru", D, H) == count_parameters(gru.CELL, D, H) == sizes == 3 * H * (D + H + 1)
        assert count_parameters("gru", D, H) * 4 == count_parameters("lstm", D, H) * 3
        assert count_parameters("rnn", D, H) == H * D + H * H + H   # Wx (H, D), Wh (H, H), b (H, 1)
    assert count_parameters(lstm.CELL, 64, 128) == 98816


@pytest.mark.parametrize("call, message", [
    (lambda: count_parameters("transformer", 3, 4), r"count_parameters: argument 'cell' must be one of "
                                                    r"\['rnn', 'lstm', 'gru'\] or their Cell; received 'transformer'"),
    (lambda: count_parameters("gru", 0, 4), r"count_parameters: argument 'D' must be a positive integer; received 0"),
])
def test_count_parameters_errors(call, message):
    with pytest.raises(ValueError, match="^" + message):
        call()


# ---------------------------------------------------------------- argument errors


def test_missing_parameter_is_named():
    params, xs, h0 = random_case(2, 3, 4, 2, seed=12)
    del params["b_r"]
    with pytest.raises(ValueError, match=r"^gru_forward: argument 'params' is missing key\(s\) \['b_r'\]"):
        gru.gru_forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"^gru_step_forward: argument 'params' is missing key\(s\) \['b_r'\]"):
        gru.gru_step_forward(xs[0], h0, params)


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "xs": a["xs"][:, :2]}, r"gru_forward: argument 'xs' must have shape \(\?, 3, \?\); "
                                            r"received shape \(2, 2, 2\)"),
    (lambda a: {**a, "h0": a["h0"][:, :1]}, r"gru_forward: argument 'h0' must have shape \(4, 2\); "
                                            r"received shape \(4, 1\)"),
    (lambda a: {**a, "params": {**a["params"], "U_h": np.zeros((3, 3))}},
     r"gru_forward: argument 'params\['U_h'\]' must have shape \(4, 3\); received shape \(3, 3\)"),
])
def test_wrong_shapes_name_argument_expected_and_received(change, message):
    params, xs, h0 = random_case(2, 3, 4, 2, seed=13)
    args = change({"xs": xs, "h0": h0, "params": params})
    with pytest.raises(ValueError, match="^" + message):
        gru.gru_forward(args["xs"], args["h0"], args["params"])


def test_backward_and_pytorch_form_check_their_arguments():
    params, xs, h0 = random_case(2, 3, 4, 2, seed=14)
    _, cache = gru.gru_forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"^gru_backward: argument 'dhs' must have shape \(2, 4, 2\); "
                                         r"received shape \(1, 4, 2\)"):
        gru.gru_backward(np.zeros((1, 4, 2)), cache)
    with pytest.raises(ValueError, match=r"^gru_step_backward: argument 'dh' must have shape \(4, 2\)"):
        gru.gru_step_backward(np.zeros((2, 4)), gru.gru_step_forward(xs[0], h0, params)[1])
    with pytest.raises(ValueError, match=r"^gru_forward_pytorch_form: argument 'b_hn' must have shape \(4, 1\)"):
        gru.gru_forward_pytorch_form(xs, h0, params, b_hn=np.zeros(4))
