"""helpers.stacked over the LSTM and the GRU: the stack against the cell's step function applied
layer by layer and step by step, every gradient (inputs, each layer's parameters and initial
state) against central differences, the stack as one Cell (flat parameter names, state, step,
parameter count), float32 and argument errors."""
import numpy as np
import pytest

from helpers.cells import CELLS, count_parameters
from conftest import assert_gradcheck, state_arrays
from helpers.stacked import init_stacked, stacked_backward, stacked_cell, stacked_final_states, stacked_forward

CELL_NAMES = ("lstm", "gru")   # the RNN cell (helpers.rnn) is built on another branch


def random_state(name, H, N, rng):
    return (rng.normal(size=(H, N)), rng.normal(size=(H, N))) if name == "lstm" else rng.normal(size=(H, N))


def random_case(name, L=3, T=4, D=3, H=2, N=2, seed=0):
    rng = np.random.default_rng(seed)
    layers = [{k: rng.normal(scale=0.6, size=v.shape) for k, v in p.items()}
              for p in init_stacked(name, D, H, L, rng)]
    return layers, rng.normal(size=(T, D, N)), [random_state(name, H, N, rng) for _ in range(L)]


def by_steps(cell, xs, states, layers):
    """The top layer's h_t and every layer's final state: at each step, each layer in turn."""
    states, top = list(states), []
    for x in xs:
        for layer, params in enumerate(layers):
            x, states[layer] = cell.step(x, states[layer], params)
        top.append(x)
    return np.stack(top), states


@pytest.mark.parametrize("name", CELL_NAMES)
def test_forward_and_final_states_against_the_step_function(name):
    cell = CELLS[name]
    layers, xs, states0 = random_case(name)
    hs, cache = stacked_forward(xs, states0, layers, name)
    expected, final = by_steps(cell, xs, states0, layers)
    assert hs.shape == (4, 2, 2)
    np.testing.assert_allclose(hs, expected, rtol=1e-13, atol=1e-15)
    for got, want in zip(stacked_final_states(cache), final):
        for a, b in zip(state_arrays(got), state_arrays(want)):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    zeros = [cell.zero_state(2, 2) for _ in layers]
    np.testing.assert_array_equal(stacked_forward(xs, None, layers, cell)[0],
                                  stacked_forward(xs, zeros, layers, name)[0])


@pytest.mark.parametrize("name", CELL_NAMES)
def test_backward_against_central_differences(name):
    layers, xs, states0 = random_case(name, seed=2)
    dhs = np.random.default_rng(2).normal(size=(4, 2, 2))

    def J(_):
        return float(np.sum(dhs * stacked_forward(xs, states0, layers, name)[0]))

    dxs, dstates0, grads = stacked_backward(dhs, stacked_forward(xs, states0, layers, name)[1])
    assert len(dstates0) == len(grads) == 3
    assert_gradcheck(J, xs, dxs)
    for params, layer_grads in zip(layers, grads):
        assert_gradcheck(J, params, layer_grads)
    for state, dstate in zip(states0, dstates0):
        for a, da in zip(state_arrays(state), state_arrays(dstate)):
            assert_gradcheck(J, a, da)


@pytest.mark.parametrize("name", CELL_NAMES)
def test_stack_as_one_cell(name):
    cell = CELLS[name]
    stack = stacked_cell(name, 2)
    assert stack.keys == tuple(f"{k}^1" for k in cell.keys) + tuple(f"{k}^2" for k in cell.keys)
    params = stack.init(5, 3, np.random.default_rng(0))
    U = "U_z" if name == "gru" else "U_f"
    assert params[f"{U}^1"].shape == (3, 5) and params[f"{U}^2"].shape == (3, 3)
    assert sum(v.size for v in params.values()) == count_parameters(name, 5, 3) + count_parameters(name, 3, 3)
    layers = [{k: params[f"{k}^{layer}"] for k in cell.keys} for layer in (1, 2)]
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(3, 5, 2))
    state0 = tuple(random_state(name, 3, 2, rng) for _ in range(2))
    hs, cache = stack.forward(xs, state0, params)
    np.testing.assert_array_equal(hs, stacked_forward(xs, list(state0), layers, name)[0])
    dhs = rng.normal(size=hs.shape)
    dxs, dstate0, grads = stack.backward(dhs, cache)
    ref_dxs, ref_dstates, ref_grads = stacked_backward(dhs, stacked_forward(xs, list(state0), layers, name)[1])
    np.testing.assert_array_equal(dxs, ref_dxs)
    assert isinstance(dstate0, tuple) and len(dstate0) == 2 and set(grads) == set(stack.keys)
    assert all(np.array_equal(grads[f"{k}^{layer}"], ref_grads[layer - 1][k]) for k in cell.keys for layer in (1, 2))
    h, state = stack.step(xs[0], state0, params)
    np.testing.assert_allclose(h, hs[0], rtol=1e-13, atol=1e-15)
    assert isinstance(state, tuple) and len(state) == 2 and isinstance(stack.final_state(cache), tuple)
    zero = stack.zero_state(3, 2, np.float32)
    assert len(zero) == 2 and all(a.dtype == np.float32 and not a.any() for s in zero for a in state_arrays(s))


def test_float32_stays_float32():
    layers, xs, _ = random_case("gru", seed=3)
    layers = [{k: v.astype(np.float32) for k, v in p.items()} for p in layers]
    hs, cache = stacked_forward(xs.astype(np.float32), None, layers, "gru")
    dxs, dstates, grads = stacked_backward(np.ones_like(hs), cache)
    assert hs.dtype == dxs.dtype == np.float32
    assert all(g.dtype == np.float32 for layer in grads for g in layer.values())


def test_argument_errors():
    layers, xs, states0 = random_case("lstm", seed=4)
    with pytest.raises(ValueError, match=r"^stacked_forward: argument 'states0' must hold one initial state per "
                                         r"layer \(3\); received 2"):
        stacked_forward(xs, states0[:2], layers, "lstm")
    with pytest.raises(ValueError, match=r"^stacked_forward: argument 'layers_params' must hold at least one"):
        stacked_forward(xs, None, [], "lstm")
    with pytest.raises(TypeError, match=r"^stacked_forward: argument 'layers_params' must be a list or tuple"):
        stacked_forward(xs, None, layers[0], "lstm")
    with pytest.raises(ValueError, match=r"^stacked_cell: argument 'num_layers' must be a positive integer; "
                                         r"received 0"):
        stacked_cell("gru", 0)
