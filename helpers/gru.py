"""The GRU (gated recurrent unit, 门控循环单元; Cho et al. 2014), in the lecture's form:

    z_t  = sigma(W_z h_{t-1} + U_z x_t + b_z)                update gate (更新门)
    r_t  = sigma(W_r h_{t-1} + U_r x_t + b_r)                reset gate (重置门)
    h~_t = tanh(W_h (r_t * h_{t-1}) + U_h x_t + b_h)         candidate: the reset gate acts before W_h
    h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t                  z_t = 1: take the new candidate

(The slide's last line writes u_t for the update gate: it is z_t.)  No separate memory cell:
h_t itself is the additive path, h_{t-1} passing on scaled by 1 - z_t.  Three gate blocks
against the LSTM's four: 3 H (D + H + 1) parameters.

PyTorch's nn.GRU is a different (equally valid) GRU: the reset gate acts *after* the matrix
product, n_t = tanh(U_h x_t + b_h + r_t * (W_h h_{t-1} + b_hn)), and the roles of z and 1 - z
are swapped, h_t = (1 - z_t) * n_t + z_t * h_{t-1}.  ``gru_forward_pytorch_form`` computes it.

Shapes: x_t (D, N), h_t (H, N), W_* (H, H), U_* (H, D), b_* (H, 1); xs (T, D, N) -> hs (T, H, N).

Backward, with dh = dJ/dh_t (from above and from step t+1):

    delta_h = dh * z_t * (1 - h~_t^2)                         (candidate pre-activation)
    d(r h)  = W_h^T delta_h,   delta_r = d(r h) * h_{t-1} * r_t (1 - r_t)
    delta_z = dh * (h~_t - h_{t-1}) * z_t (1 - z_t)
    dJ/dh_{t-1} = dh * (1 - z_t) + d(r h) * r_t + W_z^T delta_z + W_r^T delta_r
    dW_z = sum_t delta_z h_{t-1}^T,  dW_r likewise,  dW_h = sum_t delta_h (r_t * h_{t-1})^T,
    dU_g = sum_t delta_g x_t^T,  db_g = sum_t delta_g,  dJ/dx_t = sum_g U_g^T delta_g.

Vectorised as the LSTM: the U_g x_t of all gates and steps in one matrix product, W_z and W_r
on h_{t-1} in one product per step (W_h must wait for r_t), weight gradients after the loop.

Notebook 05's exercises keep simpler caches: a step's cache is a dict {"x", "h_prev", "z", "r",
"h_tilde", "params"} and a sequence's is the list of its step caches.  The backward functions here
accept those too (``as_cache``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .cells import Cell
from .recurrent import (check_call, check_params, check_upstream, init_gated, input_side_gradients, param_keys,
                        previous_states, sigmoid_tanh_, stack, step_columns, unstack)
from .validate import describe, require_keys

GATES = ("z", "r", "h")           # stacking order; "h" is the candidate h~
KEYS = param_keys(GATES)          # ('W_z', 'U_z', 'b_z', 'W_r', 'U_r', 'b_r', 'W_h', 'U_h', 'b_h')


class GRUCache(NamedTuple):
    """What gru_forward keeps for the backward pass (T steps, stacked weights in GATES order)."""

    xs: np.ndarray         # (T, D, N)  x_1..x_T
    h0: np.ndarray         # (H, N)
    acts: np.ndarray       # (T, 3H, N) per step the activations [z_t; r_t; h~_t]
    rhs: np.ndarray        # (T, H, N)  r_t * h_{t-1}
    hs: np.ndarray         # (T, H, N)  h_1..h_T
    W: np.ndarray          # (3H, H)    [W_z; W_r; W_h]
    U: np.ndarray          # (3H, D)    [U_z; U_r; U_h]


def init_gru(D, H, rng=0, dtype=np.float64):
    """Random GRU parameters {W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h}: U_* ~ N(0, 1/D),
    W_* ~ N(0, 1/H), biases 0 (z_t starts near 0.5).  rng: a np.random.Generator or an integer seed."""
    return init_gated(D, H, rng, dtype, GATES, "init_gru")


def _forward(xs, h0, arrays, dtype):
    T, D, N = xs.shape
    H = h0.shape[0]
    W, U, b = stack(arrays, GATES, dtype)
    W_zr, W_h = W[:2 * H], W[2 * H:]
    acts = np.matmul(U, xs)                               # U x_t for all gates and all steps: (T, 3H, N)
    rhs, hs = np.empty((T, H, N), dtype=dtype), np.empty((T, H, N), dtype=dtype)
    h = h0
    for t in range(T):
        a = acts[t]
        a += b
        zr, cand = a[:2 * H], a[2 * H:]
        zr += W_zr @ h                                    # W_z h_{t-1} and W_r h_{t-1} together
        sigmoid_tanh_(zr, 2 * H)
        z, r = zr[:H], zr[H:]
        np.multiply(r, h, out=rhs[t])                     # reset before W_h
        cand += W_h @ rhs[t]
        np.tanh(cand, out=cand)
        np.subtract(cand, h, out=hs[t])                   # h_t = h_{t-1} + z_t (h~_t - h_{t-1})
        hs[t] *= z
        hs[t] += h
        h = hs[t]
    return hs, GRUCache(xs, h0, acts, rhs, hs, W, U)


def _cell_backward(dh, act, h_prev, W, delta, dh_prev):
    """Backward through step t.  dh = dJ/dh_t (all paths).  Writes [delta_z; delta_r; delta_h]
    into delta (3H, N) and dJ/dh_{t-1} through this step into dh_prev."""
    H = dh.shape[0]
    z, r, cand = act[:H], act[H:2 * H], act[2 * H:]
    d_act = np.empty_like(act)                            # dJ/d[z; r; h~]
    np.subtract(cand, h_prev, out=d_act[:H])
    d_act[:H] *= dh
    np.multiply(dh, z, out=d_act[2 * H:])
    local = np.subtract(1.0, act)                         # the activations' derivatives:
    local[:2 * H] *= act[:2 * H]                          #   sigma' = s (1 - s)
    local[2 * H:] *= 1.0 + cand                           #   tanh' = (1 - h~)(1 + h~)
    np.multiply(d_act[2 * H:], local[2 * H:], out=delta[2 * H:])
    d_rh = W[2 * H:].T @ delta[2 * H:]                    # dJ/d(r_t * h_{t-1})
    np.multiply(d_rh, h_prev, out=d_act[H:2 * H])
    np.multiply(d_act[:2 * H], local[:2 * H], out=delta[:2 * H])
    np.matmul(W[:2 * H].T, delta[:2 * H], out=dh_prev)    # through z_t and r_t
    d_rh *= r
    dh_prev += d_rh                                       # through r_t * h_{t-1}
    dh_prev += dh
    dh_prev -= d_act[2 * H:]                              # directly: dh * (1 - z_t)


def _backward(dhs, cache, keep=False):
    """(dxs, dh_totals, grads): dh_totals[k] = dJ/dh_k through every path, for k = 0..T when
    ``keep`` (else only k = 0 is right: index k % 2)."""
    xs, h0, acts, rhs, hs, W, U = cache
    T, H, N = hs.shape
    S = T + 1 if keep else 2                              # rows kept of dJ/dh_k (index k % S)
    dh_tot = np.empty((S, H, N), dtype=acts.dtype)
    delta = step_columns(3 * H, T, N, acts.dtype)         # every step's [delta_z; delta_r; delta_h]
    dh_tot[T % S] = dhs[T - 1]
    for t in range(T - 1, -1, -1):                        # hs[t] is h_{t+1}: step t+1 of the lecture
        dh = dh_tot[(t + 1) % S]
        if t < T - 1:
            dh += dhs[t]                                  # dJ/dh_{t+1}: from above + through step t+2
        _cell_backward(dh, acts[t], hs[t - 1] if t else h0, W, delta[:, t], dh_tot[t % S])
    A = delta.reshape(3 * H, T * N)
    dW = np.concatenate([A[:2 * H] @ previous_states(h0, hs).T,       # W_z, W_r act on h_{t-1}
                         A[2 * H:] @ rhs.transpose(1, 0, 2).reshape(H, T * N).T])   # W_h on r_t * h_{t-1}
    dU, db, dxs = input_side_gradients(delta, xs, U)
    return dxs, dh_tot, unstack(dW, dU, db, GATES)


# ---------------------------------------------------------------- notebook 05's caches

EXERCISE_CACHE = ("x", "h_prev", "z", "r", "h_tilde", "params")


def as_cache(cache, fn: str) -> GRUCache:
    """A GRUCache from gru_forward's or gru_step_forward's cache, from notebook 05's step cache (a dict with
    the keys EXERCISE_CACHE; the step is recomputed from x, h_prev and params), or from a list of step caches
    in time order (notebook 05's sequence cache).  ValueError for anything else."""
    if isinstance(cache, GRUCache):
        return cache
    if isinstance(cache, Mapping):
        require_keys(cache, EXERCISE_CACHE, "cache", fn)
        xs, (h0,), arrays, dtype = check_call(cache["x"], [("h_prev", cache["h_prev"])], cache["params"], GATES, fn,
                                              "cache['x']", sequence=False)
        return _forward(xs, h0, arrays, dtype)[1]
    if isinstance(cache, (list, tuple)) and cache:
        steps = [as_cache(step, fn) for step in cache]
        first = steps[0]
        return GRUCache(*(np.concatenate([getattr(s, f) for s in steps]) if f in ("xs", "acts", "rhs", "hs")
                          else getattr(first, f) for f in GRUCache._fields))
    raise ValueError(f"{fn}: argument 'cache' must be the cache of gru_forward or gru_step_forward, a step cache "
                     f"dict with the keys {list(EXERCISE_CACHE)}, or a list of step caches; received {describe(cache)}")


# ---------------------------------------------------------------- public API


def gru_step_forward(x, h_prev, params):
    """One GRU step.  x (D, N), h_prev (H, N), params {W_z, U_z, b_z, ..., b_h} -> (h (H, N), cache).
    ValueError names a missing key or a wrong shape."""
    xs, (h0,), arrays, dtype = check_call(x, [("h_prev", h_prev)], params, GATES, "gru_step_forward", "x",
                                          sequence=False)
    hs, cache = _forward(xs, h0, arrays, dtype)
    return hs[0], cache


def gru_step_backward(dh, cache):
    """Backward through one step: dh = dJ/dh_t (H, N) -> (dx (D, N), dh_prev (H, N), grads).
    cache: gru_step_forward's (or notebook 05's step cache dict, see as_cache)."""
    cache = as_cache(cache, "gru_step_backward")
    dh = check_upstream(dh, cache.h0.shape, "dh", "gru_step_backward")
    dxs, dh_tot, grads = _backward(dh[None], cache)
    return dxs[0], dh_tot[0], grads


def gru_forward(xs, h0, params):
    """The GRU over a sequence.  xs (T, D, N), h0 (H, N) or None (zeros) -> (hs (T, H, N) = h_1..h_T, cache)."""
    xs, (h0,), arrays, dtype = check_call(xs, [("h0", h0)], params, GATES, "gru_forward", "xs", sequence=True)
    return _forward(xs, h0, arrays, dtype)


def gru_backward(dhs, cache):
    """Backpropagation through time.  dhs (T, H, N): dJ/dh_t from above at every step
    -> (dxs (T, D, N), dh0 (H, N), grads: same keys and shapes as params).
    cache: gru_forward's (or the list of step caches that notebook 05's gru_forward returns)."""
    cache = as_cache(cache, "gru_backward")
    dhs = check_upstream(dhs, cache.hs.shape, "dhs", "gru_backward")
    dxs, dh_tot, grads = _backward(dhs, cache)
    return dxs, dh_tot[0], grads


def gru_state_gradients(dhs, cache):
    """dJ/dh_k for k = 0..T, (T + 1, H, N), through every path (k = 0: the initial state),
    for the plot of ||dJ/dh_k|| against the distance T - k."""
    dhs = check_upstream(dhs, cache.hs.shape, "dhs", "gru_state_gradients")
    return _backward(dhs, cache, keep=True)[1]


def gru_activations(cache):
    """What the cell did at each step, from gru_forward's cache: {'z', 'r', 'h_tilde', 'h'},
    each (T, H, N) (copies)."""
    H = cache.hs.shape[1]
    out = {name: cache.acts[:, k * H:(k + 1) * H].copy() for k, name in enumerate(("z", "r", "h_tilde"))}
    return {**out, "h": cache.hs.copy()}


# ---------------------------------------------------------------- PyTorch's variant (ungraded comparison)


def gru_forward_pytorch_form(xs, h0, params, b_hn=None):
    """The GRU as torch.nn.GRU computes it, with the same parameters (forward only):

        z_t = sigma(W_z h_{t-1} + U_z x_t + b_z),   r_t = sigma(W_r h_{t-1} + U_r x_t + b_r)
        n_t = tanh(U_h x_t + b_h + r_t * (W_h h_{t-1} + b_hn))      reset after the product
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}                       z and 1 - z swapped

    b_hn (H, 1): PyTorch's extra bias inside the reset (None: 0).  xs (T, D, N), h0 (H, N) or
    None -> hs (T, H, N).  ``pytorch_gru_weights`` gives the matching nn.GRU state dict.
    """
    fn = "gru_forward_pytorch_form"
    xs, (h0,), arrays, dtype = check_call(xs, [("h0", h0)], params, GATES, fn, "xs", sequence=True)
    T, D, N = xs.shape
    H = h0.shape[0]
    b_hn = np.zeros((H, 1), dtype) if b_hn is None else check_upstream(b_hn, (H, 1), "b_hn", fn)
    W, U, b = stack(arrays, GATES, dtype)
    pre = np.matmul(U, xs) + b                            # U x_t + b for all gates and steps
    hs = np.empty((T, H, N), dtype=dtype)
    h = h0
    for t in range(T):
        wh = W @ h                                        # all three W_g h_{t-1} in one product
        zr = sigmoid_tanh_(pre[t, :2 * H] + wh[:2 * H], 2 * H)
        z, r = zr[:H], zr[H:]
        n = np.tanh(pre[t, 2 * H:] + r * (wh[2 * H:] + b_hn))
        hs[t] = (1.0 - z) * n + z * h
        h = hs[t]
    return hs


def pytorch_gru_weights(params, b_hn=None):
    """The state dict of a one-layer torch.nn.GRU(D, H) computing ``gru_forward_pytorch_form``
    with these parameters, as NumPy arrays (PyTorch stacks its gates in the order r, z, n):
    weight_ih_l0 = [U_r; U_z; U_h] (3H, D), weight_hh_l0 = [W_r; W_z; W_h] (3H, H),
    bias_ih_l0 = [b_r; b_z; b_h] (3H,), bias_hh_l0 = [0; 0; b_hn] (3H,).
    nn.GRU takes inputs (T, N, D): pass xs.transpose(0, 2, 1)."""
    fn = "pytorch_gru_weights"
    D, H, arrays = check_params(params, GATES, fn)
    dtype = np.result_type(*arrays.values())
    b_hn = np.zeros((H, 1), dtype) if b_hn is None else check_upstream(b_hn, (H, 1), "b_hn", fn)
    order = ("r", "z", "h")
    return {"weight_ih_l0": np.concatenate([arrays[f"U_{g}"] for g in order]),
            "weight_hh_l0": np.concatenate([arrays[f"W_{g}"] for g in order]),
            "bias_ih_l0": np.concatenate([arrays[f"b_{g}"] for g in order])[:, 0],
            "bias_hh_l0": np.concatenate([np.zeros((2 * H, 1), dtype), b_hn])[:, 0]}


def _step(x, state, params):
    h, _ = gru_step_forward(x, state, params)
    return h, h


CELL = Cell(
    name="gru",
    keys=KEYS,
    init=lambda D, H, rng, dtype=np.float64: init_gru(D, H, rng, dtype),
    forward=gru_forward,
    backward=gru_backward,
    final_state=lambda cache: cache.hs[-1],
    step=_step,
    zero_state=lambda H, N, dtype=np.float64: np.zeros((H, N), dtype),
)
