"""helpers.bidirectional over the LSTM and the GRU: the outputs are the cell run forwards and,
by hand, step by step over the reversed sequence, put back in time order; every gradient (inputs,
both directions' parameters and initial states) against central differences; float32; errors."""
import numpy as np
import pytest

from helpers.bidirectional import bidirectional_backward, bidirectional_forward
from helpers.cells import CELLS
from conftest import assert_gradcheck, state_arrays

CELL_NAMES = ("rnn", "lstm", "gru")


def random_state(name, H, N, rng):
    return (rng.normal(size=(H, N)), rng.normal(size=(H, N))) if name == "lstm" else rng.normal(size=(H, N))


def random_case(name, T=4, D=3, H=2, N=3, seed=0):
    rng = np.random.default_rng(seed)
    cell = CELLS[name]
    params_fw, params_bw = ({k: rng.normal(scale=0.6, size=v.shape) for k, v in cell.init(D, H, rng).items()}
                            for _ in range(2))
    h0s = (random_state(name, H, N, rng), random_state(name, H, N, rng))
    return cell, rng.normal(size=(T, D, N)), h0s, params_fw, params_bw


@pytest.mark.parametrize("name", CELL_NAMES)
def test_outputs_are_both_directions_in_time_order(name):
    cell, xs, (s_fw, s_bw), params_fw, params_bw = random_case(name, T=5, H=3)
    hs, _ = bidirectional_forward(xs, params_fw, params_bw, name, (s_fw, s_bw))
    assert hs.shape == (5, 6, 3)
    np.testing.assert_array_equal(hs[:, :3], cell.forward(xs, s_fw, params_fw)[0])
    state, by_hand = s_bw, {}
    for t in reversed(range(5)):                   # x_T first: h_t^bw has read x_T .. x_t
        by_hand[t], state = cell.step(xs[t], state, params_bw)
    np.testing.assert_allclose(hs[:, 3:], np.stack([by_hand[t] for t in range(5)]), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", CELL_NAMES)
def test_zero_initial_states_by_default_and_the_cell_as_an_object(name):
    cell, xs, (s_fw, s_bw), params_fw, params_bw = random_case(name)
    zeros = tuple(cell.zero_state(2, 3) for _ in range(2))
    np.testing.assert_array_equal(bidirectional_forward(xs, params_fw, params_bw, cell)[0],
                                  bidirectional_forward(xs, params_fw, params_bw, name, zeros)[0])


@pytest.mark.parametrize("name", CELL_NAMES)
def test_backward_against_central_differences(name):
    cell, xs, h0s, params_fw, params_bw = random_case(name, seed=3)
    dhs = np.random.default_rng(3).normal(size=(4, 4, 3))

    def J(_):
        return float(np.sum(dhs * bidirectional_forward(xs, params_fw, params_bw, name, h0s)[0]))

    dxs, (ds_fw, ds_bw), grads_fw, grads_bw = bidirectional_backward(
        dhs, bidirectional_forward(xs, params_fw, params_bw, name, h0s)[1])
    assert_gradcheck(J, xs, dxs)
    assert_gradcheck(J, params_fw, grads_fw)
    assert_gradcheck(J, params_bw, grads_bw)
    for state, dstate in zip(state_arrays(h0s[0]) + state_arrays(h0s[1]), state_arrays(ds_fw) + state_arrays(ds_bw)):
        assert_gradcheck(J, state, dstate)


def test_gradient_from_one_output_reaches_only_what_that_output_read():
    """dJ/dx_s from the backward direction's h_t is zero for s < t, from the forward direction's for s > t."""
    cell, xs, h0s, params_fw, params_bw = random_case("gru", T=5, seed=4)
    _, cache = bidirectional_forward(xs, params_fw, params_bw, "gru", h0s)
    dhs = np.zeros((5, 4, 3))
    dhs[2, 2:] = 1.0                                  # the backward direction's h_3 only
    dxs = bidirectional_backward(dhs, cache)[0]
    assert not dxs[:2].any() and dxs[2:].all()
    dhs[:] = 0.0
    dhs[2, :2] = 1.0                                  # the forward direction's h_3 only
    dxs = bidirectional_backward(dhs, cache)[0]
    assert not dxs[3:].any() and dxs[:3].all()


def test_float32_stays_float32():
    cell, xs, _, params_fw, params_bw = random_case("lstm", seed=5)
    to32 = lambda p: {k: v.astype(np.float32) for k, v in p.items()}   # noqa: E731
    hs, cache = bidirectional_forward(xs.astype(np.float32), to32(params_fw), to32(params_bw), "lstm")
    dxs, _, grads_fw, grads_bw = bidirectional_backward(np.ones_like(hs), cache)
    assert hs.dtype == dxs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in [*grads_fw.values(), *grads_bw.values()])


def test_argument_errors():
    cell, xs, h0s, params_fw, params_bw = random_case("lstm", seed=6)
    with pytest.raises(ValueError, match=r"^argument 'cell' must be one of \['rnn', 'lstm', 'gru'\]"):
        bidirectional_forward(xs, params_fw, params_bw, "transformer", h0s)
    del params_bw["W_o"]
    with pytest.raises(ValueError, match=r"^bidirectional_forward: argument 'params_bw' is missing key\(s\) "
                                         r"\['W_o'\]"):
        bidirectional_forward(xs, params_fw, params_bw, "lstm", h0s)
    with pytest.raises(TypeError, match=r"^bidirectional_forward: argument 'h0s' must be None or a pair"):
        bidirectional_forward(xs, params_fw, params_fw, "lstm", np.zeros((2, 3)))
    _, cache = bidirectional_forward(xs, params_fw, params_fw, "lstm")
    with pytest.raises(ValueError, match=r"^bidirectional_backward: argument 'dhs' must have more than H_fw = 2 rows "
                                         r"per step .*; received shape \(4, 2, 3\)"):
        bidirectional_backward(np.zeros((4, 2, 3)), cache)
