"""helpers.gate_analysis: the RNN's dJ/dh_k against central differences and rnn_backward; the norms of
state_gradient_norms against the state gradients computed by hand from each cell's own functions; the
LSTM's activations over a sentence against lstm_activations; boundary forgetting on a made-up model.
Also notebook 05's caches in helpers.lstm and helpers.gru (as_cache) and cell_from_functions."""
import numpy as np
import pytest

from helpers import gate_analysis as ga
from helpers import gru, lstm, rnn, rnn_lm
from helpers.cells import CELLS, cell_from_functions
from helpers.data.delayed_copy import delayed_copy
from helpers.gradcheck import gradcheck
from helpers.losses import softmax_cross_entropy


def test_rnn_state_gradients_against_central_differences_and_rnn_backward():
    rng = np.random.default_rng(0)
    params = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in rnn.init_rnn(3, 4, rng).items()}
    xs, h0, dhs = rng.normal(size=(5, 3, 2)), rng.normal(size=(4, 2)), rng.normal(size=(5, 4, 2))
    _, cache = rnn.rnn_forward(xs, h0, params)
    found = ga.rnn_state_gradients(dhs, cache)
    assert found.shape == (6, 4, 2)
    np.testing.assert_allclose(found[0], rnn.rnn_backward(dhs, cache)[1], rtol=1e-12)
    for k in (1, 3):                                   # dJ/dh_k: restart the RNN from a perturbed h_k
        hs, _ = rnn.rnn_forward(xs, h0, params)
        h_k = hs[k - 1].copy()

        def J(h):
            later, _ = rnn.rnn_forward(xs[k:], h, params)
            return float(np.sum(dhs[k:] * later) + np.sum(dhs[k - 1] * h))
        report = gradcheck(J, h_k, found[k])
        assert report.passed, str(report)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_state_gradient_norms_are_the_norms_of_the_cells_own_state_gradients(name):
    params = rnn_lm.init_lm(4, 3, 5, name, seed=1)
    k, n = 6, 7
    norms = ga.state_gradient_norms(params, k, name, n=n, seed=2)
    inputs, targets = delayed_copy(n, k, 4, seed=2)
    cell = CELLS[name]
    hs, cache = cell.forward(params["E"][:, inputs].transpose(1, 0, 2), None, {key: params[key] for key in cell.keys})
    _, dscores = softmax_cross_entropy(params["U"] @ hs[-1] + params["b2"], targets[-1])
    dhs = np.zeros_like(hs)
    dhs[-1] = params["U"].T @ dscores * n
    by_hand = {"rnn": lambda: {"h": ga.rnn_state_gradients(dhs, cache)},
               "gru": lambda: {"h": gru.gru_state_gradients(dhs, cache)},
               "lstm": lambda: dict(zip("hc", lstm.lstm_state_gradients(dhs, cache)))}[name]()
    assert set(norms) == set(by_hand)
    for key, grads in by_hand.items():
        expected = [np.mean([np.linalg.norm(grads[k + 1 - d][:, j]) for j in range(n)]) for d in range(k + 2)]
        np.testing.assert_allclose(norms[key], expected, rtol=1e-10)
        assert norms[key].shape == (k + 2,)


def test_a_forget_bias_of_one_keeps_more_gradient_along_the_cell_at_initialisation():
    params = rnn_lm.init_lm(4, 8, 24, "lstm", seed=0)
    closed = dict(params, b_f=np.zeros_like(params["b_f"]))
    open_, shut = (ga.state_gradient_norms(p, 20, "lstm")["c"] for p in (params, closed))
    assert open_[20] / open_[0] > 10 * shut[20] / shut[0]


def test_lm_gate_activations_are_lstm_activations_of_the_sentence():
    params = rnn_lm.init_lm(10, 3, 4, "lstm", seed=3)
    ids = np.array([2, 5, 7, 5, 9])
    acts = ga.lm_gate_activations(params, ids)
    _, cache = lstm.lstm_forward(params["E"][:, ids].T[:, :, None], None, {k: params[k] for k in lstm.KEYS})
    for key, value in lstm.lstm_activations(cache).items():
        np.testing.assert_array_equal(acts[key], value[:, :, 0])
        assert acts[key].shape == (5, 4)
    with pytest.raises(ValueError, match=r"^lm_gate_activations: argument 'ids' must be a non-empty 1-D"):
        ga.lm_gate_activations(params, np.array([[1, 2]]))


def test_boundary_forgetting_sees_a_forget_gate_that_closes_at_the_end_token():
    params = rnn_lm.init_lm(6, 3, 4, "lstm", seed=4)
    params["E"][:, 2] = 0.0
    params["E"][0, 2] = 1.0                              # </s> has its own input direction
    params["U_f"][:] = 0.0
    params["U_f"][:, 0] = -50.0                          # which closes every forget gate
    params["W_f"][:] = 0.0
    params["b_f"][:] = 1.0
    stream = np.array([2, 3, 4, 2, 5, 3, 2, 4])
    stats = ga.boundary_forgetting(params, stream)
    assert stats["at_eos"] < 1e-6 and stats["elsewhere"] > 0.5
    assert stats["units_closing"] == stats["units"] == 4
    with pytest.raises(ValueError, match=r"must hold </s> and other ids"):
        ga.boundary_forgetting(params, np.array([3, 4]))


# ---------------------------------------------------------------- notebook 05's caches


def exercise_lstm(xs, h0, c0, params):
    """The exercise's caches (dicts of the step's values), built step by step from the reference's values."""
    from helpers.checks.gates import lstm_exercise_cache
    caches, h, c = [], h0, c0
    for x in xs:
        caches.append(lstm_exercise_cache(x, h, c, params))
        h, c, _ = lstm.lstm_step_forward(x, h, c, params)
    return caches


def test_lstm_backward_takes_the_exercises_caches():
    rng = np.random.default_rng(5)
    params = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in lstm.init_lstm(3, 2, rng).items()}
    xs, h0, c0, dhs = rng.normal(size=(4, 3, 2)), rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), \
        rng.normal(size=(4, 2, 2))
    _, cache = lstm.lstm_forward(xs, h0, params, c0)
    expected = lstm.lstm_backward(dhs, cache)
    for other in (exercise_lstm(xs, h0, c0, params),                                        # list of dicts
                  [lstm.lstm_step_forward(x, *state, params)[2] for x, state in           # list of step caches
                   zip(xs, [(h0, c0)] + [(cache.hs[t], cache.cs[t]) for t in range(3)])]):
        got = lstm.lstm_backward(dhs, other)
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)
        for key in expected[2]:
            np.testing.assert_allclose(got[2][key], expected[2][key], rtol=1e-12)
    step = exercise_lstm(xs[:1], h0, c0, params)[0]
    got = lstm.lstm_step_backward(dhs[0], dhs[1], step)
    want = lstm.lstm_step_backward(dhs[0], dhs[1], lstm.lstm_step_forward(xs[0], h0, c0, params)[2])
    for a, b in zip(got[:3], want[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_gru_backward_takes_the_exercises_caches():
    from helpers.checks.gates import gru_exercise_cache
    rng = np.random.default_rng(6)
    params = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in gru.init_gru(3, 2, rng).items()}
    xs, h0, dhs = rng.normal(size=(4, 3, 2)), rng.normal(size=(2, 2)), rng.normal(size=(4, 2, 2))
    hs, cache = gru.gru_forward(xs, h0, params)
    steps = [gru_exercise_cache(x, h, params) for x, h in zip(xs, [h0, *hs[:-1]])]
    expected, got = gru.gru_backward(dhs, cache), gru.gru_backward(dhs, steps)
    for key in expected[2]:
        np.testing.assert_allclose(got[2][key], expected[2][key], rtol=1e-12)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)


@pytest.mark.parametrize("module, fn", [(lstm, "lstm_backward"), (gru, "gru_backward")])
def test_a_cache_of_another_kind_is_an_error(module, fn):
    with pytest.raises(ValueError, match=rf"^{fn}: argument 'cache' must be the cache of"):
        getattr(module, fn)(np.zeros((1, 2, 2)), "cache")
    with pytest.raises(ValueError, match=rf"^{fn}: argument 'cache' is missing key"):
        getattr(module, fn)(np.zeros((1, 2, 2)), [{"x": np.zeros((3, 2))}])


# ---------------------------------------------------------------- the student's functions as a cell


def plain_lstm_forward(xs, h0, params, c0=None):
    """A student's lstm_forward: the exercise's list of step dicts."""
    from helpers.checks.gates import lstm_exercise_cache
    h, c = h0, np.zeros_like(h0) if c0 is None else c0
    hs, caches = [], []
    for x in xs:
        caches.append(lstm_exercise_cache(x, h, c, params))
        h, c, _ = lstm.lstm_step_forward(x, h, c, params)
        hs.append(h)
    return np.stack(hs), caches


def plain_lstm_backward(dhs, cache):
    return lstm.lstm_backward(dhs, cache)


def test_cell_from_functions_trains_like_the_reference(capsys):
    cell = cell_from_functions("lstm", plain_lstm_forward, plain_lstm_backward)
    assert cell is not CELLS["lstm"] and cell.keys == CELLS["lstm"].keys
    rng = np.random.default_rng(7)
    params = lstm.init_lstm(3, 4, rng)
    xs, dhs = rng.normal(size=(5, 3, 2)), rng.normal(size=(5, 4, 2))
    for state in (None, (rng.normal(size=(4, 2)), rng.normal(size=(4, 2)))):
        hs, cache = cell.forward(xs, state, params)
        ref_hs, ref_cache = CELLS["lstm"].forward(xs, state, params)
        np.testing.assert_allclose(hs, ref_hs, rtol=1e-12)
        for a, b in zip(cell.final_state(cache), CELLS["lstm"].final_state(ref_cache)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        dxs, (dh0, dc0), grads = cell.backward(dhs, cache)
        ref = CELLS["lstm"].backward(dhs, ref_cache)
        np.testing.assert_allclose(dxs, ref[0], rtol=1e-12)
        np.testing.assert_allclose(dh0, ref[1][0], rtol=1e-12)
        assert dc0 is None
    h, state = cell.step(xs[0], None, params)
    np.testing.assert_allclose(h, CELLS["lstm"].step(xs[0], CELLS["lstm"].zero_state(4, 2), params)[0], rtol=1e-12)
    assert capsys.readouterr().out == ""


def test_cell_from_functions_with_a_reference_function_is_the_reference_cell(capsys):
    assert cell_from_functions("gru", gru.gru_forward, gru.gru_backward) is CELLS["gru"]
    assert capsys.readouterr().out == ""
    assert cell_from_functions("lstm", plain_lstm_forward, lstm.lstm_backward) is CELLS["lstm"]
    assert "uses the reference lstm_forward and lstm_backward together" in capsys.readouterr().out
