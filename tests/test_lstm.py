"""helpers.lstm: the forward pass (step and sequence) against a plain loop over examples and
time steps written with scalar math, every backward (step and sequence, the dc path, c0, the
gradients dJ/dh_k and dJ/dC_k at every step) against central differences in float64, the gate
activations, the Cell, float32 kept as float32, initialisation and argument errors."""
import math

import numpy as np
import pytest

from helpers import lstm
from helpers.cells import CELLS, count_parameters, get_cell
from helpers.gradcheck import gradcheck

GATES = ("f", "i", "o", "c")
SIZES = [(5, 3, 4, 2), (1, 2, 3, 1), (3, 1, 1, 4)]  # (T, D, H, N)


def sigma(v):
    return 1.0 / (1.0 + math.exp(-v))


def random_case(T, D, H, N, seed):
    """Parameters with every bias non-zero, inputs and initial states, all of moderate size."""
    rng = np.random.default_rng(seed)
    params = {key: rng.normal(scale=0.6, size=value.shape) for key, value in lstm.init_lstm(D, H, seed).items()}
    return params, rng.normal(size=(T, D, N)), rng.normal(size=(H, N)), rng.normal(size=(H, N))


def affine(W, h, U, x, b, i):
    """Row i of W h + U x + b for one example (vectors h, x)."""
    return math.fsum([*(W[i, j] * h[j] for j in range(len(h))), *(U[i, j] * x[j] for j in range(len(x))), b[i, 0]])


def lstm_by_loops(params, xs, h0, c0):
    """hs, cs and the activations {f, i, o, c_tilde}, each (T, H, N): one example, one step, one unit at a time."""
    T, D, N = xs.shape
    H = h0.shape[0]
    out = {name: np.zeros((T, H, N)) for name in ("h", "c", "f", "i", "o", "c_tilde")}
    for n in range(N):
        h, c = list(h0[:, n]), list(c0[:, n])
        for t in range(T):
            x = xs[t, :, n]
            pre = {g: [affine(params[f"W_{g}"], h, params[f"U_{g}"], x, params[f"b_{g}"], k) for k in range(H)]
                   for g in GATES}
            f, i, o = ([sigma(v) for v in pre[g]] for g in ("f", "i", "o"))
            c_tilde = [math.tanh(v) for v in pre["c"]]
            c = [f[k] * c[k] + i[k] * c_tilde[k] for k in range(H)]
            h = [o[k] * math.tanh(c[k]) for k in range(H)]
            for name, values in (("h", h), ("c", c), ("f", f), ("i", i), ("o", o), ("c_tilde", c_tilde)):
                out[name][t, :, n] = values
    return out


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("T, D, H, N", SIZES)
def test_forward_against_loops(T, D, H, N):
    params, xs, h0, c0 = random_case(T, D, H, N, seed=T + 10 * D)
    hs, cache = lstm.lstm_forward(xs, h0, params, c0)
    expected = lstm_by_loops(params, xs, h0, c0)
    assert hs.shape == (T, H, N)
    assert_close(hs, expected["h"])
    acts = lstm.lstm_activations(cache)
    assert set(acts) == {"f", "i", "o", "c_tilde", "c", "h"}
    for name, value in acts.items():
        assert value.shape == (T, H, N)
        assert_close(value, expected[name])


def test_forward_starts_from_zero_states_by_default():
    params, xs, h0, c0 = random_case(4, 3, 2, 3, seed=1)
    hs, _ = lstm.lstm_forward(xs, None, params)
    assert_close(hs, lstm_by_loops(params, xs, 0 * h0, 0 * c0)["h"])
    hs_h0_only, _ = lstm.lstm_forward(xs, h0, params)
    assert_close(hs_h0_only, lstm_by_loops(params, xs, h0, 0 * c0)["h"])


def test_step_forward_against_loops_and_the_sequence():
    params, xs, h0, c0 = random_case(1, 3, 4, 2, seed=2)
    h, c, _ = lstm.lstm_step_forward(xs[0], h0, c0, params)
    expected = lstm_by_loops(params, xs, h0, c0)
    assert h.shape == c.shape == (4, 2)
    assert_close(h, expected["h"][0])
    assert_close(c, expected["c"][0])


def test_inputs_and_parameters_are_not_modified():
    params, xs, h0, c0 = random_case(3, 2, 3, 2, seed=3)
    copies = [{k: v.copy() for k, v in params.items()}, xs.copy(), h0.copy(), c0.copy()]
    hs, cache = lstm.lstm_forward(xs, h0, params, c0)
    lstm.lstm_backward(np.ones_like(hs), cache)
    lstm.lstm_step_backward(np.ones_like(h0), np.ones_like(c0), lstm.lstm_step_forward(xs[0], h0, c0, params)[2])
    assert all(np.array_equal(params[k], copies[0][k]) for k in params)
    assert np.array_equal(xs, copies[1]) and np.array_equal(h0, copies[2]) and np.array_equal(c0, copies[3])


# ---------------------------------------------------------------- backward against central differences


def check(J, x, analytic):
    report = gradcheck(J, x, analytic)
    assert report.passed, str(report)


@pytest.mark.parametrize("T, D, H, N", SIZES)
def test_sequence_backward_against_central_differences(T, D, H, N):
    params, xs, h0, c0 = random_case(T, D, H, N, seed=20 + T)
    dhs = np.random.default_rng(T).normal(size=(T, H, N))

    def J(_):
        return float(np.sum(dhs * lstm.lstm_forward(xs, h0, params, c0)[0]))

    hs, cache = lstm.lstm_forward(xs, h0, params, c0)
    dxs, dh0, grads = lstm.lstm_backward(dhs, cache)
    assert set(grads) == set(lstm.KEYS) and all(grads[k].shape == params[k].shape for k in lstm.KEYS)
    assert dxs.shape == xs.shape and dh0.shape == h0.shape
    check(J, params, grads)
    check(J, xs, dxs)
    check(J, h0, dh0)
    _, (dh0_cell, dc0) = lstm.CELL.backward(dhs, cache)[:2]
    check(J, c0, dc0)
    assert_close(dh0_cell, dh0)


def test_backward_of_the_last_output_only_runs_along_the_cell():
    """J depends on h_T alone: every earlier gradient arrives through C_t and h_t of later steps."""
    params, xs, h0, c0 = random_case(6, 2, 3, 2, seed=5)
    dhs = np.zeros((6, 3, 2))
    dhs[-1] = np.random.default_rng(5).normal(size=(3, 2))

    def J(_):
        return float(np.sum(dhs * lstm.lstm_forward(xs, h0, params, c0)[0]))

    dxs, dh0, grads = lstm.lstm_backward(dhs, lstm.lstm_forward(xs, h0, params, c0)[1])
    check(J, params, grads)
    check(J, xs, dxs)
    check(J, h0, dh0)


def test_step_backward_against_central_differences_with_the_dc_path():
    params, xs, h0, c0 = random_case(1, 3, 4, 2, seed=6)
    x = xs[0]
    rng = np.random.default_rng(6)
    dh, dc = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))

    def J(_):
        h, c, _ = lstm.lstm_step_forward(x, h0, c0, params)
        return float(np.sum(dh * h) + np.sum(dc * c))

    dx, dh_prev, dc_prev, grads = lstm.lstm_step_backward(dh, dc, lstm.lstm_step_forward(x, h0, c0, params)[2])
    check(J, params, grads)
    check(J, x, dx)
    check(J, h0, dh_prev)
    check(J, c0, dc_prev)
    # through C_t alone (dh = 0), C_{t-1} receives dc * f_t: the forget gate
    _, _, dc_prev_only, _ = lstm.lstm_step_backward(0 * dh, dc, lstm.lstm_step_forward(x, h0, c0, params)[2])
    assert_close(dc_prev_only, dc * lstm_by_loops(params, xs, h0, c0)["f"][0])


def test_state_gradients_at_every_step_against_central_differences():
    """dJ/dh_k and dJ/dC_k for k = 0..T as total derivatives: perturb h_k, or C_k (and with it
    h_k = o_k tanh(C_k)), and rerun the rest of the sequence."""
    T, D, H, N = 5, 2, 3, 2
    params, xs, h0, c0 = random_case(T, D, H, N, seed=7)
    dhs = np.random.default_rng(7).normal(size=(T, H, N))
    hs, cache = lstm.lstm_forward(xs, h0, params, c0)
    dh_k, dc_k = lstm.lstm_state_gradients(dhs, cache)
    assert dh_k.shape == dc_k.shape == (T + 1, H, N)
    acts = lstm_by_loops(params, xs, h0, c0)
    states = [(h0, c0)] + [(acts["h"][t], acts["c"][t]) for t in range(T)]

    def J_after(h_k, c_k, k):
        """The part of J that depends on the state after step k: h_k itself (an output) and the later steps."""
        direct = float(np.sum(dhs[k - 1] * h_k)) if k > 0 else 0.0
        later = float(np.sum(dhs[k:] * lstm.lstm_forward(xs[k:], h_k, params, c_k)[0])) if k < T else 0.0
        return direct + later

    for k in range(T + 1):
        h_k, c_k = (s.copy() for s in states[k])
        check(lambda h: J_after(h, c_k, k), h_k, dh_k[k])
        if k == 0:
            check(lambda c: J_after(h_k, c, 0), c_k, dc_k[0])
        else:
            o_k = acts["o"][k - 1]
            check(lambda c: J_after(o_k * np.tanh(c), c, k), c_k, dc_k[k])


# ---------------------------------------------------------------- float32, the Cell, init


def test_float32_stays_float32_and_agrees_with_float64():
    params, xs, h0, c0 = random_case(4, 3, 5, 2, seed=8)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    hs32, cache32 = lstm.lstm_forward(xs.astype(np.float32), h0.astype(np.float32), p32, c0.astype(np.float32))
    dxs32, dh032, grads32 = lstm.lstm_backward(np.ones(hs32.shape, np.float32), cache32)
    assert hs32.dtype == dxs32.dtype == dh032.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads32.values())
    assert all(a.dtype == np.float32 for a in lstm.lstm_activations(cache32).values())
    hs64, cache64 = lstm.lstm_forward(xs, h0, params, c0)
    dxs64, _, grads64 = lstm.lstm_backward(np.ones(hs64.shape), cache64)
    np.testing.assert_allclose(hs32, hs64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dxs32, dxs64, rtol=1e-4, atol=1e-5)
    h, c, step_cache = lstm.lstm_step_forward(xs[0].astype(np.float32), h0.astype(np.float32), None, p32)
    assert h.dtype == c.dtype == np.float32
    assert all(a.dtype == np.float32 for a in lstm.lstm_step_backward(h, c, step_cache)[:3])


def test_cell_interface():
    cell = get_cell("lstm")
    assert cell is CELLS["lstm"] is lstm.CELL and cell.name == "lstm" and cell.keys == lstm.KEYS
    params, xs, h0, c0 = random_case(4, 3, 2, 3, seed=9)
    hs, cache = cell.forward(xs, (h0, c0), params)
    expected = lstm_by_loops(params, xs, h0, c0)
    assert_close(hs, expected["h"])
    h_T, c_T = cell.final_state(cache)
    assert_close(h_T, expected["h"][-1])
    assert_close(c_T, expected["c"][-1])
    h, (h_again, c) = cell.step(xs[0], (h0, c0), params)
    assert h is h_again
    assert_close(c, expected["c"][0])
    zero_h, zero_c = cell.zero_state(2, 3, np.float32)
    assert zero_h.shape == zero_c.shape == (2, 3) and zero_h.dtype == np.float32 and not zero_h.any()
    assert set(cell.init(3, 2, np.random.default_rng(0))) == set(lstm.KEYS)


def test_init_shapes_scales_forget_bias_and_determinism():
    p = lstm.init_lstm(D=40, H=60, rng=3)
    assert {k: p[k].shape for k in lstm.KEYS} == {**{f"W_{g}": (60, 60) for g in GATES},
                                                  **{f"U_{g}": (60, 40) for g in GATES},
                                                  **{f"b_{g}": (60, 1) for g in GATES}}
    assert np.all(p["b_f"] == 1.0) and not any(p[f"b_{g}"].any() for g in "ioc")
    assert not lstm.init_lstm(4, 5, 0, forget_bias=0.0)["b_f"].any()
    big = lstm.init_lstm(D=400, H=300, rng=0)
    assert big["W_f"].std() == pytest.approx(300 ** -0.5, rel=0.02)
    assert big["U_c"].std() == pytest.approx(400 ** -0.5, rel=0.02)
    again = lstm.init_lstm(40, 60, np.random.default_rng(3))
    assert all(np.array_equal(p[k], again[k]) for k in lstm.KEYS)
    assert not np.array_equal(p["W_f"], lstm.init_lstm(40, 60, 4)["W_f"])
    assert all(v.dtype == np.float32 for v in lstm.init_lstm(4, 5, 0, np.float32).values())


def test_count_parameters_matches_the_initialised_arrays():
    for D, H in ((3, 4), (64, 128)):
        sizes = sum(v.size for v in lstm.init_lstm(D, H, 0).values())
        assert count_parameters("lstm", D, H) == count_parameters(lstm.CELL, D, H) == sizes == 4 * H * (D + H + 1)


# ---------------------------------------------------------------- argument errors


def test_missing_parameter_is_named():
    params, xs, h0, c0 = random_case(2, 3, 4, 2, seed=10)
    del params["U_o"]
    with pytest.raises(ValueError, match=r"^lstm_forward: argument 'params' is missing key\(s\) \['U_o'\]"):
        lstm.lstm_forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"^lstm_step_forward: argument 'params' is missing key\(s\) \['U_o'\]"):
        lstm.lstm_step_forward(xs[0], h0, c0, params)


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "xs": a["xs"][:, :2]}, r"lstm_forward: argument 'xs' must have shape \(\?, 3, \?\); "
                                            r"received shape \(2, 2, 2\)"),
    (lambda a: {**a, "xs": a["xs"][0]}, r"lstm_forward: argument 'xs' must be 3-D; received shape \(3, 2\)"),
    (lambda a: {**a, "h0": a["h0"].T}, r"lstm_forward: argument 'h0' must have shape \(4, 2\); "
                                       r"received shape \(2, 4\)"),
    (lambda a: {**a, "c0": a["c0"][:3]}, r"lstm_forward: argument 'c0' must have shape \(4, 2\); "
                                         r"received shape \(3, 2\)"),
    (lambda a: {**a, "params": {**a["params"], "W_i": np.zeros((4, 3))}},
     r"lstm_forward: argument 'params\['W_i'\]' must have shape \(4, 4\); received shape \(4, 3\)"),
    (lambda a: {**a, "params": {**a["params"], "b_c": np.zeros(4)}},
     r"lstm_forward: argument 'params\['b_c'\]' must have shape \(4, 1\); received shape \(4,\)"),
    (lambda a: {**a, "xs": a["xs"][:0]}, r"lstm_forward: argument 'xs' must hold at least one time step"),
])
def test_wrong_shapes_name_argument_expected_and_received(change, message):
    params, xs, h0, c0 = random_case(2, 3, 4, 2, seed=11)
    args = change({"xs": xs, "h0": h0, "params": params, "c0": c0})
    with pytest.raises(ValueError, match="^" + message):
        lstm.lstm_forward(args["xs"], args["h0"], args["params"], args["c0"])


def test_backward_checks_the_upstream_gradients():
    params, xs, h0, c0 = random_case(2, 3, 4, 2, seed=12)
    _, cache = lstm.lstm_forward(xs, h0, params, c0)
    with pytest.raises(ValueError, match=r"^lstm_backward: argument 'dhs' must have shape \(2, 4, 2\); "
                                         r"received shape \(2, 2, 4\)"):
        lstm.lstm_backward(np.zeros((2, 2, 4)), cache)
    _, _, step_cache = lstm.lstm_step_forward(xs[0], h0, c0, params)
    with pytest.raises(ValueError, match=r"^lstm_step_backward: argument 'dc' must have shape \(4, 2\); "
                                         r"received shape \(4, 1\)"):
        lstm.lstm_step_backward(np.zeros((4, 2)), np.zeros((4, 1)), step_cache)


def test_bad_init_arguments():
    with pytest.raises(ValueError, match=r"^init_lstm: argument 'H' must be a positive integer; received 0"):
        lstm.init_lstm(3, 0)
    with pytest.raises(TypeError, match=r"^init_lstm: argument 'rng' must be a np.random.Generator or an integer"):
        lstm.init_lstm(3, 2, rng="seed")
    with pytest.raises(ValueError, match=r"^init_lstm: argument 'forget_bias' must be a finite number"):
        lstm.init_lstm(3, 2, forget_bias=float("nan"))
