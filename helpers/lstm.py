"""The LSTM (long short-term memory, 长短期记忆网络; Hochreiter & Schmidhuber 1997, with the forget
gate of Gers, Schmidhuber & Cummins 2000), in the lecture's notation:

    f_t  = sigma(W_f h_{t-1} + U_f x_t + b_f)        forget gate (遗忘门)
    i_t  = sigma(W_i h_{t-1} + U_i x_t + b_i)        input gate (输入门)
    o_t  = sigma(W_o h_{t-1} + U_o x_t + b_o)        output gate (输出门)
    C~_t = tanh(W_c h_{t-1} + U_c x_t + b_c)         candidate cell
    C_t  = f_t * C_{t-1} + i_t * C~_t                memory cell: an additive path through time
    h_t  = o_t * tanh(C_t)

Shapes (column vectors, batches as columns): x_t (D, N), h_t and C_t (H, N), W_* (H, H),
U_* (H, D), b_* (H, 1); sequences are time-major, xs (T, D, N) -> hs (T, H, N).

Backward, with dh = dJ/dh_t (from above and from step t+1) and dC = dJ/dC_t:

    dC   = dC_from_step_t+1 + dh * o_t * (1 - tanh(C_t)^2)
    dJ/dC_{t-1} = dC * f_t                           the additive path: only scaled by f_t
    delta_f = dC * C_{t-1} * f_t (1 - f_t),  delta_i = dC * C~_t * i_t (1 - i_t),
    delta_o = dh * tanh(C_t) * o_t (1 - o_t),  delta_c = dC * i_t * (1 - C~_t^2)
    dW_g = sum_t delta_g h_{t-1}^T,  dU_g = sum_t delta_g x_t^T,  db_g = sum_t delta_g (over the batch too),
    dJ/dh_{t-1} (through the gates) = sum_g W_g^T delta_g,   dJ/dx_t = sum_g U_g^T delta_g.

Vectorised: the four gates' U_g x_t + b_g of all time steps are one matrix product before the
loop, the four W_g h_{t-1} of a step one product, and all weight gradients one product per
matrix after the loop (the weights are stacked internally; parameter dicts keep the slide names).
Arrays keep their dtype (float32 in, float32 out).

Notebook 05's exercises keep simpler caches: a step's cache is a dict {"x", "h_prev", "c_prev", "f",
"i", "o", "c_tilde", "c", "params"} and a sequence's is the list of its step caches.  The backward
functions here accept those too (``as_cache``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .cells import Cell
from .recurrent import (check_call, check_upstream, init_gated, input_side_gradients, param_keys, previous_states,
                        sigmoid_tanh_, stack, step_columns, unstack)
from .validate import describe, require_keys

GATES = ("f", "i", "o", "c")      # stacking order; "c" is the candidate cell C~
KEYS = param_keys(GATES)          # ('W_f', 'U_f', 'b_f', 'W_i', ..., 'b_c')


class LSTMCache(NamedTuple):
    """What lstm_forward keeps for the backward pass (T steps, stacked weights in GATES order)."""

    xs: np.ndarray         # (T, D, N)  x_1..x_T
    h0: np.ndarray         # (H, N)
    c0: np.ndarray         # (H, N)
    acts: np.ndarray       # (T, 4H, N) per step the activations [f_t; i_t; o_t; C~_t]
    cs: np.ndarray         # (T, H, N)  C_1..C_T
    tanh_cs: np.ndarray    # (T, H, N)  tanh(C_t)
    hs: np.ndarray         # (T, H, N)  h_1..h_T
    W: np.ndarray          # (4H, H)    [W_f; W_i; W_o; W_c]
    U: np.ndarray          # (4H, D)    [U_f; U_i; U_o; U_c]


def init_lstm(D, H, rng=0, dtype=np.float64, forget_bias=1.0):
    """Random LSTM parameters {W_f, U_f, b_f, ..., b_c}: U_* ~ N(0, 1/D), W_* ~ N(0, 1/H),
    b_i = b_o = b_c = 0 and b_f = forget_bias.

    rng: a np.random.Generator or an integer seed.  dtype: float64 or float32.
    forget_bias: 1.0 by default, so that f_t = sigma(1) ~ 0.73 at the start and the cell keeps
    most of its memory while training begins (Gers et al. 2000 already used a positive bias;
    Jozefowicz, Zaremba & Sutskever 2015 found bias 1 closes most of the gap to the GRU).
    With 0, f_t starts at 0.5 and the memory halves at every step; notebook 05 compares both.
    """
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float, np.integer, np.floating)) \
            or not np.isfinite(forget_bias):
        raise ValueError(f"init_lstm: argument 'forget_bias' must be a finite number; received {forget_bias!r}")
    return init_gated(D, H, rng, dtype, GATES, "init_lstm", biases={"f": float(forget_bias)})


# ---------------------------------------------------------------- one step of the cell, in place


def _cell_forward(a, c_prev, c, tanh_c, h):
    """a (4H, N): the pre-activations of step t, turned in place into [f; i; o; C~].
    Writes C_t, tanh(C_t) and h_t into c, tanh_c and h."""
    H = c.shape[0]
    sigmoid_tanh_(a, 3 * H)
    f, i, o, g = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
    np.multiply(f, c_prev, out=c)
    c += i * g
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)


def _cell_backward(dh, dc_next, act, c_prev, tanh_c, delta, dc):
    """Backward through step t.  dh = dJ/dh_t (all paths), dc_next = dJ/dC_t through C_{t+1}.
    Writes dJ/dC_t (all paths) into dc and the pre-activation gradients [delta_f; delta_i;
    delta_o; delta_c] into delta (4H, N); returns dJ/dC_{t-1} through this step, dc * f_t."""
    H = dc.shape[0]
    f, i, o, g = act[:H], act[H:2 * H], act[2 * H:3 * H], act[3 * H:]
    np.square(tanh_c, out=dc)
    np.subtract(1.0, dc, out=dc)
    dc *= o
    dc *= dh
    dc += dc_next                                         # dC = dC_next + dh * o * tanh'(C_t)
    d_act = np.empty_like(act)                            # dJ/d[f; i; o; C~]
    np.multiply(dc, c_prev, out=d_act[:H])
    np.multiply(dc, g, out=d_act[H:2 * H])
    np.multiply(dh, tanh_c, out=d_act[2 * H:3 * H])
    np.multiply(dc, i, out=d_act[3 * H:])
    local = np.subtract(1.0, act)                         # the activations' derivatives:
    local[:3 * H] *= act[:3 * H]                          #   sigma' = s (1 - s)
    local[3 * H:] *= 1.0 + g                              #   tanh' = 1 - g^2 = (1 - g)(1 + g)
    np.multiply(d_act, local, out=delta)
    return dc * f


# ---------------------------------------------------------------- sequences (the step functions are T = 1)


def _forward(xs, h0, c0, arrays, dtype):
    T, D, N = xs.shape
    H = h0.shape[0]
    W, U, b = stack(arrays, GATES, dtype)
    acts = np.matmul(U, xs)                               # U x_t for all gates and all steps: (T, 4H, N)
    cs, tanh_cs, hs = (np.empty((T, H, N), dtype=dtype) for _ in range(3))
    h, c = h0, c0
    for t in range(T):
        a = acts[t]
        a += b
        a += W @ h                                        # + W h_{t-1}, all gates
        _cell_forward(a, c, cs[t], tanh_cs[t], hs[t])
        h, c = hs[t], cs[t]
    return hs, LSTMCache(xs, h0, c0, acts, cs, tanh_cs, hs, W, U)


def _backward(dhs, cache, dc_last=None, keep=False):
    """(dxs, dh_totals, dc_totals, grads): dh_totals[k] = dJ/dh_k and dc_totals[k] = dJ/dC_k,
    through every path, for k = 0..T when ``keep`` (else only k = 0 is right: index k % 2);
    dc_last = dJ/dC_T from outside the sequence (None: 0)."""
    xs, h0, c0, acts, cs, tanh_cs, hs, W, U = cache
    T, H, N = hs.shape
    dtype = acts.dtype
    S = T + 1 if keep else 2                              # rows kept of dJ/dh_k and dJ/dC_k (index k % S)
    dh_tot, dc_tot = np.empty((S, H, N), dtype=dtype), np.empty((S, H, N), dtype=dtype)
    delta = step_columns(4 * H, T, N, dtype)              # every step's [delta_f; delta_i; delta_o; delta_c]
    dh_tot[T % S] = dhs[T - 1]
    dc_prev = np.zeros((H, N), dtype=dtype) if dc_last is None else dc_last
    for t in range(T - 1, -1, -1):                        # hs[t] is h_{t+1}: step t+1 of the lecture
        dh = dh_tot[(t + 1) % S]
        if t < T - 1:
            dh += dhs[t]                                  # dJ/dh_{t+1}: from above + through step t+2
        dc_prev = _cell_backward(dh, dc_prev, acts[t], cs[t - 1] if t else c0, tanh_cs[t], delta[:, t],
                                 dc_tot[(t + 1) % S])
        np.matmul(W.T, delta[:, t], out=dh_tot[t % S])   # dJ/dh_t through the gates of step t+1
    dc_tot[0] = dc_prev
    dW = delta.reshape(4 * H, T * N) @ previous_states(h0, hs).T
    dU, db, dxs = input_side_gradients(delta, xs, U)
    return dxs, dh_tot, dc_tot, unstack(dW, dU, db, GATES)


# ---------------------------------------------------------------- notebook 05's caches

EXERCISE_CACHE = ("x", "h_prev", "c_prev", "f", "i", "o", "c_tilde", "c", "params")


def as_cache(cache, fn: str) -> LSTMCache:
    """An LSTMCache from lstm_forward's or lstm_step_forward's cache, from notebook 05's step cache (a dict
    with the keys EXERCISE_CACHE; the step is recomputed from x, h_prev, c_prev and params), or from a list
    of step caches in time order (notebook 05's sequence cache).  ValueError for anything else."""
    if isinstance(cache, LSTMCache):
        return cache
    if isinstance(cache, Mapping):
        require_keys(cache, EXERCISE_CACHE, "cache", fn)
        xs, (h0, c0), arrays, dtype = check_call(cache["x"], [("h_prev", cache["h_prev"]), ("c_prev", cache["c_prev"])],
                                                 cache["params"], GATES, fn, "cache['x']", sequence=False)
        return _forward(xs, h0, c0, arrays, dtype)[1]
    if isinstance(cache, (list, tuple)) and cache:
        steps = [as_cache(step, fn) for step in cache]
        first = steps[0]
        return LSTMCache(*(np.concatenate([getattr(s, f) for s in steps]) if f in ("xs", "acts", "cs", "tanh_cs", "hs")
                           else getattr(first, f) for f in LSTMCache._fields))
    raise ValueError(f"{fn}: argument 'cache' must be the cache of lstm_forward or lstm_step_forward, a step cache "
                     f"dict with the keys {list(EXERCISE_CACHE)}, or a list of step caches; received {describe(cache)}")


# ---------------------------------------------------------------- public API


def lstm_step_forward(x, h_prev, c_prev, params):
    """One LSTM step.  x (D, N), h_prev and c_prev (H, N), params {W_f, U_f, b_f, ..., b_c}
    -> (h (H, N), c (H, N), cache).  ValueError names a missing key or a wrong shape."""
    xs, (h0, c0), arrays, dtype = check_call(x, [("h_prev", h_prev), ("c_prev", c_prev)], params, GATES,
                                             "lstm_step_forward", "x", sequence=False)
    hs, cache = _forward(xs, h0, c0, arrays, dtype)
    return hs[0], cache.cs[0], cache


def lstm_step_backward(dh, dc, cache):
    """Backward through one step: dh = dJ/dh_t, dc = dJ/dC_t from outside the step (H, N)
    -> (dx (D, N), dh_prev (H, N), dc_prev (H, N), grads {W_f: (H, H), ..., b_c: (H, 1)}).
    cache: lstm_step_forward's (or notebook 05's step cache dict, see as_cache)."""
    cache = as_cache(cache, "lstm_step_backward")
    shape = cache.h0.shape
    dh = check_upstream(dh, shape, "dh", "lstm_step_backward")
    dc = check_upstream(dc, shape, "dc", "lstm_step_backward")
    dxs, dh_tot, dc_tot, grads = _backward(dh[None], cache, dc)
    return dxs[0], dh_tot[0], dc_tot[0], grads


def lstm_forward(xs, h0, params, c0=None):
    """The LSTM over a sequence.  xs (T, D, N), h0 (H, N) or None (zeros), c0 (H, N) or None
    (zeros) -> (hs (T, H, N) = h_1..h_T, cache).  The U_* x_t of all gates and steps are one
    matrix product; the W_* h_{t-1} of a step one more."""
    xs, (h0, c0), arrays, dtype = check_call(xs, [("h0", h0), ("c0", c0)], params, GATES, "lstm_forward", "xs",
                                             sequence=True)
    return _forward(xs, h0, c0, arrays, dtype)


def lstm_backward(dhs, cache):
    """Backpropagation through time.  dhs (T, H, N): dJ/dh_t from above at every step (0 where h_t
    feeds nothing) -> (dxs (T, D, N), dh0 (H, N), grads: same keys and shapes as params).
    The gradient into c0 is lstm_state_gradients(dhs, cache)[1][0] (or the LSTM Cell's backward).
    cache: lstm_forward's (or the list of step caches that notebook 05's lstm_forward returns)."""
    cache = as_cache(cache, "lstm_backward")
    dhs = check_upstream(dhs, cache.hs.shape, "dhs", "lstm_backward")
    dxs, dh_tot, _, grads = _backward(dhs, cache)
    return dxs, dh_tot[0], grads


def lstm_state_gradients(dhs, cache):
    """(dJ/dh_k, dJ/dC_k) for k = 0..T, each (T + 1, H, N): total derivatives through every path
    (dJ/dC_k includes the path through h_k = o_k tanh(C_k)); k = 0 is the initial state (h0, c0).

    For the plot of ||dJ/dC_k|| against the distance T - k: along the cell the gradient is only
    multiplied by the forget gates, dJ/dC_{k-1} = f_k * dJ/dC_k + (the path through h_{k-1}).
    """
    dhs = check_upstream(dhs, cache.hs.shape, "dhs", "lstm_state_gradients")
    _, dh_tot, dc_tot, _ = _backward(dhs, cache, keep=True)
    return dh_tot, dc_tot


def lstm_activations(cache):
    """What the cell did at each step, from lstm_forward's cache: {'f', 'i', 'o', 'c_tilde', 'c', 'h'},
    each (T, H, N) (copies): the three gates, the candidate C~_t, the cell C_t and h_t."""
    H = cache.hs.shape[1]
    out = {name: cache.acts[:, k * H:(k + 1) * H].copy() for k, name in enumerate(("f", "i", "o", "c_tilde"))}
    return {**out, "c": cache.cs.copy(), "h": cache.hs.copy()}


def _cell_forward_with_state(xs, state0, params):
    h0, c0 = (None, None) if state0 is None else state0          # None: h_0 = C_0 = 0
    return lstm_forward(xs, h0, params, c0)


def _cell_backward_with_state(dhs, cache):
    dxs, dh_tot, dc_tot, grads = _backward(check_upstream(dhs, cache.hs.shape, "dhs", "lstm_backward"), cache)
    return dxs, (dh_tot[0], dc_tot[0]), grads


def _step(x, state, params):
    h, c, _ = lstm_step_forward(x, state[0], state[1], params)
    return h, (h, c)


CELL = Cell(
    name="lstm",
    keys=KEYS,
    init=lambda D, H, rng, dtype=np.float64: init_lstm(D, H, rng, dtype),
    forward=_cell_forward_with_state,
    backward=_cell_backward_with_state,
    final_state=lambda cache: (cache.hs[-1], cache.cs[-1]),
    step=_step,
    zero_state=lambda H, N, dtype=np.float64: (np.zeros((H, N), dtype), np.zeros((H, N), dtype)),
)
