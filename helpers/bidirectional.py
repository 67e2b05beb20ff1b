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
from .validate import as_float_array, describe, require_keys, require_shape


def _initial_states(h0s, cell, H_fw, H_bw, N, dtype, fn):
    if h0s is None:
        return cell.zero_state(H_fw, N, dtype), cell.zero_state(H_bw, N, dtype)
    if not isinstance(h0s, (list, tuple)) or len(h0s) != 2:
        raise TypeError(f"{fn}: argument 'h0s' must be None or a pair (initial state of the forward direction, "
                        f"of the backward direction); received {describe(h0s)}")
    return tuple(h0s)


def bidirectional_forward(xs, h0s, params_fw, params_bw, cell):
    """Run ``cell`` forwards with params_fw and backwards with params_bw over xs (T, D, N).

    h0s: None (zero states) or a pair (state0_fw, state0_bw), each a state of ``cell``
         ((H, N), or (h, c) for the LSTM).
    cell: 'rnn', 'lstm', 'gru' or a helpers.cells.Cell.
    Returns (hs, cache): hs (T, H_fw + H_bw, N), rows [:H_fw] the forward direction's h_t and
    rows [H_fw:] the backward direction's h_t, both in time order.
    """
    fn = "bidirectional_forward"
    cell = get_cell(cell)
    xs = as_float_array(xs, "xs", fn, ndim=3)
    require_keys(params_fw, cell.keys, "params_fw", fn)
    require_keys(params_bw, cell.keys, "params_bw", fn)
    H_fw, H_bw = (np.shape(p[cell.keys[0]])[0] for p in (params_fw, params_bw))
    state_fw, state_bw = _initial_states(h0s, cell, H_fw, H_bw, xs.shape[2], xs.dtype, fn)
    hs_fw, cache_fw = cell.forward(xs, state_fw, params_fw)
    hs_bw, cache_bw = cell.forward(xs[::-1], state_bw, params_bw)      # reads x_T, ..., x_1
    hs = np.concatenate([hs_fw, hs_bw[::-1]], axis=1)
    return hs, (cell, cache_fw, cache_bw, hs.shape, H_fw)


def bidirectional_backward(dhs, cache):
    """dhs = dJ/dh_t (T, H_fw + H_bw, N) -> (dxs (T, D, N), (dstate0_fw, dstate0_bw), grads_fw, grads_bw).

    The forward direction gets dhs[:, :H_fw]; the backward direction, which ran on the reversed
    sequence, gets dhs[::-1, H_fw:], and its dxs are reversed back into time order.
    """
    cell, cache_fw, cache_bw, shape, H_fw = cache
    dhs = as_float_array(dhs, "dhs", "bidirectional_backward", ndim=3)
    require_shape(dhs, shape, "dhs", "bidirectional_backward")
    dxs_fw, dstate_fw, grads_fw = cell.backward(dhs[:, :H_fw], cache_fw)
    dxs_bw, dstate_bw, grads_bw = cell.backward(dhs[::-1, H_fw:], cache_bw)
    return dxs_fw + dxs_bw[::-1], (dstate_fw, dstate_bw), grads_fw, grads_bw
