"""What the gated recurrent cells (LSTM, GRU) share: argument checks, the stacked weights, the
sigmoid of several gates in one call, and the reshuffle between a time-major sequence and one wide matrix.

A gated cell has, for each gate g, the slide's triple W_g (H, H) acting on h_{t-1}, U_g (H, D)
acting on x_t and b_g (H, 1).  The code stacks the triples of all gates into W (G H, H),
U (G H, D) and b (G H, 1), so that

    U @ xs                     one matrix product for all gates and all time steps, before the loop
                               (np.matmul broadcasts U over the T steps of xs (T, D, N); measured
                               faster than U @ [x_1 ... x_T] (D, T N) and the reshuffle back)
    W @ h_{t-1}                one matrix product for all gates of a step

and the weight gradients of all steps are one product each after the loop, while the
parameter dicts keep the slide names.
"""
from __future__ import annotations

import numbers

import numpy as np

from .validate import as_float_array, describe, require_keys, require_positive_int, require_shape


def as_generator(rng, fn: str) -> np.random.Generator:
    """A np.random.Generator from a Generator or an integer seed; TypeError for anything else."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"{fn}: argument 'rng' must be a np.random.Generator or an integer seed; received {describe(rng)}")


def param_keys(gates) -> tuple:
    """('W_f', 'U_f', 'b_f', 'W_i', ...): the slide names of the parameters of ``gates``, gate by gate."""
    return tuple(f"{kind}_{g}" for g in gates for kind in ("W", "U", "b"))


def init_gated(D, H, rng, dtype, gates, fn, biases=None) -> dict:
    """Random parameters of a gated cell: U_g ~ N(0, 1/D), W_g ~ N(0, 1/H), b_g = biases.get(g, 0).

    The variances keep each product U_g x_t and W_g h_{t-1} at about unit variance when the
    entries of x_t and h_{t-1} have unit variance (LeCun et al. 1998).
    """
    D, H = require_positive_int(D, "D", fn), require_positive_int(H, "H", fn)
    rng = as_generator(rng, fn)
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"{fn}: argument 'dtype' must be a floating-point type; received {dtype}")
    params = {}
    for g in gates:
        params[f"W_{g}"] = rng.normal(scale=H ** -0.5, size=(H, H)).astype(dtype)
        params[f"U_{g}"] = rng.normal(scale=D ** -0.5, size=(H, D)).astype(dtype)
        params[f"b_{g}"] = np.full((H, 1), (biases or {}).get(g, 0.0), dtype=dtype)
    return params


def check_params(params, gates, fn: str) -> tuple[int, int, dict]:
    """(D, H, arrays) of a gated cell's parameter dict, H from W_{first gate} and D from U_{first gate}.

    ``arrays`` holds the parameters as float arrays.  ValueError naming the missing key, or the
    parameter with the wrong shape, its expected and received shape.
    """
    require_keys(params, param_keys(gates), "params", fn)
    arrays = {key: as_float_array(params[key], f"params['{key}']", fn) for key in param_keys(gates)}
    first_W, first_U = arrays[f"W_{gates[0]}"], arrays[f"U_{gates[0]}"]
    require_shape(first_W, (None, None), f"params['W_{gates[0]}']", fn)
    require_shape(first_U, (None, None), f"params['U_{gates[0]}']", fn)
    H, D = first_W.shape[0], first_U.shape[1]
    for g in gates:
        for kind, shape in (("W", (H, H)), ("U", (H, D)), ("b", (H, 1))):
            require_shape(arrays[f"{kind}_{g}"], shape, f"params['{kind}_{g}']", fn)
    return D, H, arrays


def check_input(x, D: int, name: str, fn: str, sequence: bool) -> np.ndarray:
    """x (D, N), or xs (T, D, N) with T >= 1 when ``sequence``, as a float array."""
    x = as_float_array(x, name, fn, ndim=3 if sequence else 2)
    require_shape(x, (None, D, None) if sequence else (D, None), name, fn)
    if sequence and x.shape[0] == 0:
        raise ValueError(f"{fn}: argument '{name}' must hold at least one time step; received shape {x.shape}")
    return x


def check_state(h, H: int, N: int, name: str, fn: str, dtype) -> np.ndarray:
    """A state (H, N) as a float array; zeros of ``dtype`` when ``h`` is None."""
    if h is None:
        return np.zeros((H, N), dtype=dtype)
    h = as_float_array(h, name, fn)
    require_shape(h, (H, N), name, fn)
    return h


def check_call(xs, states, params, gates, fn: str, x_name: str, sequence: bool):
    """The checked arguments of a forward function: (xs (T, D, N), [states (H, N)], arrays, dtype).

    states: [(argument name, value or None for zeros)].  A single step's x (D, N) comes back
    as a sequence of one step.  Everything is cast to the common dtype (float32 only if all
    inputs are float32).
    """
    D, H, arrays = check_params(params, gates, fn)
    xs = check_input(xs, D, x_name, fn, sequence)
    dtype = np.result_type(xs, *arrays.values())
    states = [check_state(value, H, xs.shape[-1], name, fn, dtype) for name, value in states]
    dtype = np.result_type(dtype, *states)
    xs = (xs if sequence else xs[None]).astype(dtype, copy=False)
    return xs, [s.astype(dtype, copy=False) for s in states], arrays, dtype


def check_upstream(d, shape: tuple, name: str, fn: str) -> np.ndarray:
    """An upstream gradient dJ/d(output) of exactly ``shape``."""
    d = as_float_array(d, name, fn)
    require_shape(d, shape, name, fn)
    return d


def stack(params, gates, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W (G H, H), U (G H, D), b (G H, 1): the gates' matrices one below the other, in ``gates`` order."""
    return tuple(np.concatenate([np.asarray(params[f"{kind}_{g}"], dtype=dtype) for g in gates])
                 for kind in ("W", "U", "b"))


def unstack(dW, dU, db, gates) -> dict:
    """The inverse of ``stack`` for gradients: {'W_f': rows 0..H of dW, ...} (contiguous row blocks)."""
    grads = {}
    for kind, block in (("W", dW), ("U", dU), ("b", db)):
        for g, part in zip(gates, np.split(block, len(gates))):
            grads[f"{kind}_{g}"] = np.ascontiguousarray(part)
    return {key: grads[key] for key in param_keys(gates)}


def sigmoid_tanh_(a, n_sigmoid: int) -> np.ndarray:
    """In place: rows [:n_sigmoid] of ``a`` become sigma(a), the other rows tanh(a); returns ``a``.

    One tanh call for all rows, through the identity sigma(z) = (1 + tanh(z / 2)) / 2, which
    also never overflows.
    """
    s = a[:n_sigmoid]
    s *= 0.5
    np.tanh(a, out=a)
    s *= 0.5
    s += 0.5
    return a


def columns(xs) -> np.ndarray:
    """xs (T, D, N) -> [x_1 x_2 ... x_T] (D, T N): all time steps side by side (a copy)."""
    T, D, N = xs.shape
    out = np.empty((D, T, N), dtype=xs.dtype)
    out[...] = xs.transpose(1, 0, 2)
    return out.reshape(D, T * N)


def previous_states(h0, hs) -> np.ndarray:
    """[h_0 h_1 ... h_{T-1}] (H, T N): the state each step started from, side by side."""
    T, H, N = hs.shape
    out = np.empty((H, T, N), dtype=hs.dtype)
    out[:, 0] = h0
    out[:, 1:] = hs[:-1].transpose(1, 0, 2)
    return out.reshape(H, T * N)


def step_columns(G: int, T: int, N: int, dtype) -> np.ndarray:
    """An empty (G, T, N) array whose slice [:, t] holds step t's G x N block and whose rows, reshaped
    to (G, T N), are every step's columns side by side, ready for one matrix product after the loop.

    Each row is padded by 16 unused numbers: with T N a multiple of 1024, unpadded rows would lie
    4 or 8 kB apart and a step's block would fall into the same few cache sets (measured: 5% of
    an LSTM's backward pass).
    """
    return np.empty((G, T * N + 16), dtype=dtype)[:, :T * N].reshape(G, T, N)


def input_side_gradients(delta, xs, U) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dU (G H, D), db (G H, 1), dxs (T, D, N)) from every step's pre-activation gradients
    delta (G H, T, N) and the inputs xs (T, D, N): dU = sum_t delta_t x_t^T, db = sum_t delta_t
    (over the batch too), dx_t = U^T delta_t, each one matrix product over all steps."""
    GH, T, N = delta.shape
    A = delta.reshape(GH, T * N)
    return A @ columns(xs).T, A.sum(axis=1, keepdims=True), time_major(U.T @ A, T)


def time_major(m, T: int) -> np.ndarray:
    """The inverse of ``columns``: m (D, T N) -> (T, D, N) (a contiguous copy)."""
    D = m.shape[0]
    return np.ascontiguousarray(m.reshape(D, T, -1).transpose(1, 0, 2))
