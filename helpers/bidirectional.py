"""Bidirectional RNNs (双向循环神经网络) over any cell: one cell reads the sequence forwards, another
(with its own parameters) reads it backwards, and the output at step t stacks the two:

    h_t = [h_t^fw; h_t^bw]      (2H, N),   h_t^fw from x_1..x_t,   h_t^bw from x_T..x_t

so every output sees the whole sequence.  That is why a bidirectional RNN cannot be a language
model: h_t^bw has read x_{t+1}, the word it should predict.  It suits classification and tagging.

The backward direction runs the cell on the reversed sequence x_T..x_1; its outputs are
reversed back into time order before stacking, and in the backward pass its gradients are
reversed the same way.
"""
from __future__ import annotations

import numpy as np

from .cells import get_cell
from .validate import as_float_array, describe, require_keys


def _initial_states(h0s, fn):
    if h0s is None:
        return None, None                                 # the cells' zero states
    if not isinstance(h0s, (list, tuple)) or len(h0s) != 2:
        raise TypeError(f"{fn}: argument 'h0s' must be None or a pair (initial state of the forward direction, "
                        f"of the backward direction); received {describe(h0s)}")
    return tuple(h0s)


def bidirectional_forward(xs, params_fw, params_bw, cell, h0s=None):
    """Run ``cell`` forwards with params_fw and backwards with params_bw over xs (T, D, N).

    cell: 'rnn', 'lstm', 'gru' or a helpers.cells.Cell.
    h0s: None (zero states; notebook 05's exercise always starts from them) or a pair
         (state0_fw, state0_bw), each a state of ``cell`` ((H, N), or (h, c) for the LSTM).
    Returns (hs, cache): hs (T, H_fw + H_bw, N), rows [:H_fw] the forward direction's h_t and
    rows [H_fw:] the backward direction's h_t, both in time order;
    cache = (cell, cache_fw, cache_bw, H_fw) with the Cell and the caches of the two directions.
    """
    fn = "bidirectional_forward"
    cell = get_cell(cell)
    xs = as_float_array(xs, "xs", fn, ndim=3)
    require_keys(params_fw, cell.keys, "params_fw", fn)
    require_keys(params_bw, cell.keys, "params_bw", fn)
    state_fw, state_bw = _initial_states(h0s, fn)
    hs_fw, cache_fw = cell.forward(xs, state_fw, params_fw)
    hs_bw, cache_bw = cell.forward(xs[::-1], state_bw, params_bw)      # reads x_T, ..., x_1
    return np.concatenate([hs_fw, hs_bw[::-1]], axis=1), (cell, cache_fw, cache_bw, hs_fw.shape[1])


def bidirectional_backward(dhs, cache):
    """dhs = dJ/dh_t (T, H_fw + H_bw, N) -> (dxs (T, D, N), (dstate0_fw, dstate0_bw), grads_fw, grads_bw).

    The forward direction gets dhs[:, :H_fw]; the backward direction, which ran on the reversed
    sequence, gets dhs[::-1, H_fw:], and its dxs are reversed back into time order.  The cells'
    backward functions check the number of steps, the batch and H_bw.
    """
    fn = "bidirectional_backward"
    cell, cache_fw, cache_bw, H_fw = cache
    dhs = as_float_array(dhs, "dhs", fn, ndim=3)
    if dhs.shape[1] <= H_fw:
        raise ValueError(f"{fn}: argument 'dhs' must have more than H_fw = {H_fw} rows per step (the two "
                         f"directions' dJ/dh_t stacked); received shape {dhs.shape}")
    dxs_fw, dstate_fw, grads_fw = cell.backward(dhs[:, :H_fw], cache_fw)
    dxs_bw, dstate_bw, grads_bw = cell.backward(dhs[::-1, H_fw:], cache_bw)
    return dxs_fw + dxs_bw[::-1], (dstate_fw, dstate_bw), grads_fw, grads_bw
