"""Stacked (multi-layer, 多层) RNNs over any cell: layer 1 reads the inputs x_t, layer l reads the
hidden states h_t^{l-1} of the layer below, and the top layer's h_t are the outputs:

    h_t^1 = cell(x_t, h_{t-1}^1),    h_t^l = cell(h_t^{l-1}, h_{t-1}^l)   (l = 2..L)

Each layer has its own parameters (layer 1: D inputs, the others H).  ``stacked_cell`` wraps a
stack as one Cell, so a language model or classifier takes a two-layer LSTM as it takes an LSTM.
"""
from __future__ import annotations

import numpy as np

from .cells import Cell, get_cell
from .recurrent import as_generator
from .validate import as_float_array, require_positive_int, require_sequence


def _layers(layers_params, states0, fn):
    layers = require_sequence(layers_params, "layers_params", fn)
    if not layers:
        raise ValueError(f"{fn}: argument 'layers_params' must hold at least one layer's parameters; received []")
    if states0 is None:
        return layers, [None] * len(layers)
    states0 = require_sequence(states0, "states0", fn)
    if len(states0) != len(layers):
        raise ValueError(f"{fn}: argument 'states0' must hold one initial state per layer ({len(layers)}); "
                         f"received {len(states0)}")
    return layers, states0


def init_stacked(cell, D, H, num_layers, rng=0, dtype=np.float64):
    """[params of layer 1 (D inputs), of layer 2 (H inputs), ...]: num_layers fresh parameter dicts.
    rng: a np.random.Generator or an integer seed (the layers draw from it in turn)."""
    cell = get_cell(cell)
    num_layers = require_positive_int(num_layers, "num_layers", "init_stacked")
    rng = as_generator(rng, "init_stacked")
    return [cell.init(D if layer == 0 else H, H, rng, dtype) for layer in range(num_layers)]


def stacked_forward(xs, states0, layers_params, cell):
    """The stack over xs (T, D, N).

    states0: None (zero states) or one initial state per layer.  layers_params: one parameter
    dict per layer, bottom first.  cell: 'rnn', 'lstm', 'gru' or a Cell.
    Returns (hs (T, H, N) of the top layer, cache).
    """
    fn = "stacked_forward"
    cell = get_cell(cell)
    layers, states0 = _layers(layers_params, states0, fn)
    xs = as_float_array(xs, "xs", fn, ndim=3)
    caches, hs = [], xs
    for params, state0 in zip(layers, states0):
        if state0 is None:
            state0 = cell.zero_state(np.shape(params[cell.keys[0]])[0], xs.shape[2], xs.dtype)
        hs, cache = cell.forward(hs, state0, params)
        caches.append(cache)
    return hs, (cell, caches)


def stacked_backward(dhs, cache):
    """dhs = dJ/dh_t of the top layer (T, H, N) -> (dxs (T, D, N), [dstate0 per layer], [grads per layer]).
    Layer l's dJ/d(inputs) is the dJ/dh_t of layer l - 1."""
    cell, caches = cache
    dstates, grads = [], []
    for layer_cache in reversed(caches):
        dhs, dstate0, layer_grads = cell.backward(dhs, layer_cache)
        dstates.append(dstate0)
        grads.append(layer_grads)
    return dhs, dstates[::-1], grads[::-1]


def stacked_final_states(cache):
    """[the state after the last step of each layer], bottom first (carried to the next window)."""
    cell, caches = cache
    return [cell.final_state(layer_cache) for layer_cache in caches]


def stacked_cell(cell, num_layers) -> Cell:
    """A stack of ``num_layers`` layers of ``cell`` (all with H hidden units) as one Cell.

    Its parameter dict is flat, the layer as a superscript as on the slides: 'W_f^1', ...,
    'W_f^2', ...; its state is the tuple of the layers' states, bottom first.
    """
    cell = get_cell(cell)
    L = require_positive_int(num_layers, "num_layers", "stacked_cell")
    keys = tuple(f"{key}^{layer}" for layer in range(1, L + 1) for key in cell.keys)

    def split(params):
        return [{key: params[f"{key}^{layer}"] for key in cell.keys} for layer in range(1, L + 1)]

    def join(layers):
        return {f"{key}^{layer}": value for layer, params in enumerate(layers, 1) for key, value in params.items()}

    def backward(dhs, cache):
        dxs, dstates, grads = stacked_backward(dhs, cache)
        return dxs, tuple(dstates), join(grads)

    def step(x, state, params):
        new_state = []
        for layer_params, layer_state in zip(split(params), state):
            x, layer_state = cell.step(x, layer_state, layer_params)
            new_state.append(layer_state)
        return x, tuple(new_state)

    return Cell(
        name=f"{cell.name}x{L}",
        keys=keys,
        init=lambda D, H, rng, dtype=np.float64: join(init_stacked(cell, D, H, L, rng, dtype)),
        forward=lambda xs, state0, params: stacked_forward(xs, None if state0 is None else list(state0), split(params),
                                                           cell),
        backward=backward,
        final_state=lambda cache: tuple(stacked_final_states(cache)),
        step=step,
        zero_state=lambda H, N, dtype=np.float64: tuple(cell.zero_state(H, N, dtype) for _ in range(L)),
    )
