"""The recurrent neural network (循环神经网络, RNN) of lecture item 6, backpropagation through time (BPTT),
and the product of Jacobians of lecture item 7 that makes its gradients vanish or explode.

    h_t = f(W_h h_{t-1} + W_x x_t + b),   t = 1..T,   f = tanh (or relu, identity for experiments)

Parameters ``{"Wx": (H, D), "Wh": (H, H), "b": (H, 1)}``; a batch of N sequences is time-major,
xs (T, D, N) with xs[t] the inputs at step t + 1 as columns, hidden states hs (T, H, N).

Backpropagation through time is the chain rule on the network unrolled over the T steps.  With
delta_t = dJ/dz_t (z_t the pre-activation) and dJ/dh_t = (dJ/dh_t from the output at step t) +
(dJ/dh_t through h_{t+1}):

    delta_t = dJ/dh_t * f'(z_t)                 (for tanh, f'(z_t) = 1 - h_t^2)
    dJ/dh_{t-1} through h_t = W_h^T delta_t
    dW_h = sum_t delta_t h_{t-1}^T,   dW_x = sum_t delta_t x_t^T,   db = sum_t delta_t summed over the batch

The weights are the same at every step, so their gradients are sums over time.  Only the
recurrence needs a loop over t: W_x x_t for all T N columns is one matrix product before the
loop, and dW_x, dW_h, db and every dJ/dx_t are one product each after it.
"""
from __future__ import annotations

import numpy as np

from .activations import get_activation
from .cells import Cell
from .validate import (as_float_array, as_generator, float_dtype, require_keys, require_positive_int,
                       require_shape)

KEYS = ("Wx", "Wh", "b")
ACTIVATIONS = ("tanh", "relu", "identity")


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal (n, n) matrix, uniformly distributed: Q of the QR decomposition of a
    Gaussian matrix, its columns' signs fixed by the diagonal of R (Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def init_rnn(D, H, rng=None, dtype=np.float64, scale=0.5):
    """Random RNN parameters {Wx (H, D), Wh (H, H), b (H, 1)} of the given float dtype.

    Wx ~ N(0, 1/D), so W_x x_t has about unit variance for unit inputs;  Wh = scale * Q with Q a
    random orthogonal matrix (Saxe et al. 2014), so every singular value and every |eigenvalue|
    of Wh equals ``scale``: its spectral radius is ``scale``;  b = 0.
    The default scale 0.5 is near the spectral radius of the common uniform(-1/sqrt(H), 1/sqrt(H))
    initialisation (about 1/sqrt(3) = 0.58, PyTorch's nn.RNN): a plain RNN as usually met, whose
    gradients shrink like 0.5^k over k steps.  scale = 1 keeps the norm of h through W_h exactly.
    rng: a numpy Generator or an int seed (None: seed 0).  scale: a positive number.
    """
    fn = "init_rnn"
    D, H = require_positive_int(D, "D", fn), require_positive_int(H, "H", fn)
    dtype, rng = float_dtype(dtype, fn), as_generator(rng, fn)
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)) \
            or not 0 < scale < np.inf:
        raise ValueError(f"{fn}: argument 'scale' must be a positive finite number; received {scale!r}")
    Wx = rng.normal(scale=D ** -0.5, size=(H, D))
    Wh = scale * orthogonal(H, rng)
    return {"Wx": Wx.astype(dtype), "Wh": Wh.astype(dtype), "b": np.zeros((H, 1), dtype)}


# ---------------------------------------------------------------------------- checks shared by the layer


def _activation(activation, fn):
    if activation not in ACTIVATIONS:
        raise ValueError(f"{fn}: argument 'activation' must be one of {list(ACTIVATIONS)}; received {activation!r}")
    return get_activation(activation)[0]


def _weights(params, D, H, fn):
    """(Wx, Wh, b) of ``params``, checked against the input size D and the hidden size H."""
    require_keys(params, KEYS, "params", fn)
    Wx = as_float_array(params["Wx"], "params['Wx']", fn, ndim=2)
    Wh = as_float_array(params["Wh"], "params['Wh']", fn, ndim=2)
    b = as_float_array(params["b"], "params['b']", fn, ndim=2)
    require_shape(Wx, (H, D), "params['Wx']", fn)
    require_shape(Wh, (H, H), "params['Wh']", fn)
    require_shape(b, (H, 1), "params['b']", fn)
    return Wx, Wh, b


def derivative_from_output(h, activation="tanh"):
    """f'(z) written with the output h = f(z): tanh 1 - h^2, relu [h > 0], identity 1.  Any shape.

    The backward pass needs f' only where f was applied, and the stored h_t gives it without z_t:
    this is the diag(1 - h_t^2) of the lecture's Jacobian dh_t/dh_{t-1} = diag(1 - h_t^2) W_h.
    """
    if activation == "tanh":
        return 1.0 - h * h
    if activation == "relu":
        return (h > 0).astype(h.dtype)
    if activation == "identity":
        return np.ones_like(h)
    raise ValueError(f"derivative_from_output: argument 'activation' must be one of {list(ACTIVATIONS)}; "
                     f"received {activation!r}")


# ---------------------------------------------------------------------------- one step


def rnn_step_forward(x, h_prev, params, activation="tanh"):
    """One step h = f(W_h h_prev + W_x x + b).

    x: (D, N) inputs;  h_prev: (H, N) previous hidden states;  params: {"Wx", "Wh", "b"} as in init_rnn;
    activation: "tanh" (default), "relu" or "identity".
    Returns h (H, N) and cache = (x, h_prev, h, params, activation) for rnn_step_backward.
    The dtype follows the inputs (float32 in, float32 out).
    """
    fn = "rnn_step_forward"
    f = _activation(activation, fn)
    x = as_float_array(x, "x", fn, ndim=2)
    h_prev = as_float_array(h_prev, "h_prev", fn, ndim=2)
    H = h_prev.shape[0]
    Wx, Wh, b = _weights(params, x.shape[0], H, fn)
    require_shape(h_prev, (H, x.shape[1]), "h_prev", fn)
    h = f(Wh @ h_prev + Wx @ x + b)
    return h, (x, h_prev, h, {"Wx": Wx, "Wh": Wh, "b": b}, activation)


def rnn_step_backward(dh, cache):
    """Backward of one step: dh = dJ/dh (H, N) -> (dx (D, N), dh_prev (H, N), grads {Wx, Wh, b}).

        delta = dh * f'(z)    (tanh: 1 - h^2)
        dx = W_x^T delta,   dh_prev = W_h^T delta,   dWx = delta x^T,   dWh = delta h_prev^T,   db = sum_n delta
    """
    x, h_prev, h, params, activation = cache
    dh = as_float_array(dh, "dh", "rnn_step_backward", ndim=2)
    require_shape(dh, h.shape, "dh", "rnn_step_backward")
    delta = dh * derivative_from_output(h, activation)
    grads = {"Wx": delta @ x.T, "Wh": delta @ h_prev.T, "b": delta.sum(axis=1, keepdims=True)}
    return params["Wx"].T @ delta, params["Wh"].T @ delta, grads


# ---------------------------------------------------------------------------- a whole sequence


def rnn_forward(xs, h0, params, activation="tanh"):
    """Run the RNN over a batch of sequences: xs (T, D, N), h0 (H, N) -> hs (T, H, N), cache.

    hs[t] is h_{t+1}, the state after reading xs[t] (h0 is not repeated in hs).  W_x x_t + b for
    all T N columns is one matrix product; only h_t = f(W_h h_{t-1} + ...) loops over t.
    Storage: the states live in one (H, T + 1, N) array (h0 first) whose columns run over
    (t, n), so that BPTT's products over all steps need no copies; hs is a (T, H, N) view of it.
    xs may be any strided view (the RNN-LM passes E[:, ids] transposed without copying).
    cache = (X, states, params, activation) with X (D, T N) the inputs as columns.
    """
    fn = "rnn_forward"
    f = _activation(activation, fn)
    xs = as_float_array(xs, "xs", fn, ndim=3)
    h0 = as_float_array(h0, "h0", fn, ndim=2)
    T, D, N = xs.shape
    H = h0.shape[0]
    Wx, Wh, b = _weights(params, D, H, fn)
    require_shape(h0, (H, N), "h0", fn)
    if T == 0:
        raise ValueError(f"{fn}: argument 'xs' must hold at least one time step; received shape {xs.shape}")
    X = xs.transpose(1, 0, 2).reshape(D, T * N)        # column t*N + n is x_t of sequence n
    inputs = Wx @ X                                     # W_x x_t for every t: one product
    inputs += b
    inputs = inputs.reshape(H, T, N)
    states = np.empty((H, T + 1, N), dtype=np.result_type(inputs, h0, Wh))
    states[:, 0] = h0
    for t in range(T):
        states[:, t + 1] = f(Wh @ states[:, t] + inputs[:, t])
    return states[:, 1:].transpose(1, 0, 2), (X, states, {"Wx": Wx, "Wh": Wh, "b": b}, activation)


def rnn_backward(dhs, cache):
    """Backpropagation through time: dhs (T, H, N) -> (dxs (T, D, N), dh0 (H, N), grads {Wx, Wh, b}).

    dhs[t] is dJ/dh_{t+1} from the output layer at that step only; the gradient arriving through
    the next step, W_h^T delta_{t+1}, is added to it.  The parameter gradients are sums over all
    steps (one matrix product each, after the loop).  dh0 = dJ/dh_0, for a caller that wants to
    continue further back.  dxs is a (T, D, N) view of a (D, T, N) array (columns over (t, n)).
    cache: rnn_forward's, or the list of the T caches (x_t, h_{t-1}, h_t, params, activation) of
    rnn_step_forward that a loop over the steps collects (notebook 04's exercise rnn_forward).
    """
    fn = "rnn_backward"
    if isinstance(cache, list):
        cache = _from_step_caches(cache, fn)
    X, states, params, activation = cache
    H, T1, N = states.shape
    T = T1 - 1
    dhs = as_float_array(dhs, "dhs", fn, ndim=3)
    require_shape(dhs, (T, H, N), "dhs", fn)
    Wx, Wh = params["Wx"], params["Wh"]
    deltas = np.empty((H, T, N), dtype=np.result_type(dhs, states))
    dh_next = np.zeros((H, N), dtype=deltas.dtype)          # dJ/dh_T through h_{T+1}: none
    for t in reversed(range(T)):
        deltas[:, t] = (dhs[t] + dh_next) * derivative_from_output(states[:, t + 1], activation)
        dh_next = Wh.T @ deltas[:, t]
    delta = deltas.reshape(H, T * N)
    previous = states[:, :T].reshape(H, T * N)              # h_0 ... h_{T-1} as columns (a view)
    grads = {"Wx": delta @ X.T, "Wh": delta @ previous.T, "b": delta.sum(axis=1, keepdims=True)}
    dxs = (Wx.T @ delta).reshape(-1, T, N).transpose(1, 0, 2)
    return dxs, dh_next, grads


def _from_step_caches(steps, fn):
    """rnn_forward's cache (X, states, params, activation) from the list of the T step caches."""
    if not steps or any(not isinstance(c, tuple) or len(c) != 5 for c in steps):
        raise ValueError(f"{fn}: argument 'cache' must be rnn_forward's cache or a non-empty list of caches "
                         f"(x, h_prev, h, params, activation) of rnn_step_forward; received a list of "
                         f"{[type(c).__name__ for c in steps][:3]}")
    xs = np.stack([c[0] for c in steps])                                  # (T, D, N)
    T, D, N = xs.shape
    states = np.stack([steps[0][1]] + [c[2] for c in steps], axis=1)      # (H, T + 1, N), h0 first
    return xs.transpose(1, 0, 2).reshape(D, T * N), states, steps[0][3], steps[0][4]


# ---------------------------------------------------------------------------- vanishing and exploding gradients


def gradient_norms_through_time(hs, Wh, g, activation="tanh"):
    """||dJ/dh_t|| for t = T, T-1, ..., 1, from g = dJ/dh_T, one transposed Jacobian at a time.

    The lecture's product (item 7), e.g. dJ^4/dh^1 = dh^2/dh^1 . dh^3/dh^2 . dh^4/dh^3 . dJ^4/dh^4, read
    from the right: with dh_t/dh_{t-1} = diag(f'(z_t)) W_h (tanh: f'(z_t) = 1 - h_t^2),

        dJ/dh_{t-1} = (dh_t/dh_{t-1})^T dJ/dh_t = W_h^T (f'(z_t) * dJ/dh_t).

    hs: (T, H) or (T, H, 1), hs[t] = h_{t+1} (as rnn_forward returns them for one sequence);
    Wh: (H, H);  g: (H,) or (H, 1), dJ/dh_T;  activation: the RNN's f ("tanh" by default).
    Returns norms (T,) in order of the distance T - t: norms[0] = ||dJ/dh_T|| = ||g||,
    norms[k] = ||dJ/dh_{T-k}||, norms[T-1] = ||dJ/dh_1||.  (h_1 itself is not needed.)
    """
    fn = "gradient_norms_through_time"
    hs = as_float_array(hs, "hs", fn, ndim=(2, 3))
    if hs.ndim == 3:
        require_shape(hs, (None, None, 1), "hs", fn)
        hs = hs[:, :, 0]
    T, H = hs.shape
    Wh = as_float_array(Wh, "Wh", fn, ndim=2)
    require_shape(Wh, (H, H), "Wh", fn)
    g = as_float_array(g, "g", fn, ndim=(1, 2))
    if g.shape not in ((H,), (H, 1)):
        raise ValueError(f"{fn}: argument 'g' must have shape ({H},) or ({H}, 1); received shape {g.shape}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{fn}: argument 'activation' must be one of {list(ACTIVATIONS)}; received {activation!r}")
    g = g.reshape(H)
    norms = np.empty(T, dtype=np.result_type(hs, Wh, g))
    for k in range(T):                                       # k = T - t
        norms[k] = np.linalg.norm(g)
        if k < T - 1:
            g = Wh.T @ (derivative_from_output(hs[T - 1 - k], activation) * g)   # through h_{T-k}
    return norms


def spectral_radius(W):
    """max |eigenvalue| of a square matrix W (H, H).  Governs ||(W^T)^k g|| ~ rho^k for large k."""
    W = as_float_array(W, "W", "spectral_radius", ndim=2)
    require_shape(W, (W.shape[0], W.shape[0]), "W", "spectral_radius")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def with_spectral_radius(W, radius):
    """W rescaled to the given spectral radius: W * radius / spectral_radius(W).  Same shape and dtype."""
    W = as_float_array(W, "W", "with_spectral_radius", ndim=2)
    if isinstance(radius, bool) or not isinstance(radius, (int, float, np.integer, np.floating)) \
            or not 0 <= radius < np.inf:
        raise ValueError(f"with_spectral_radius: argument 'radius' must be a non-negative finite number; "
                         f"received {radius!r}")
    return (W * (radius / spectral_radius(W))).astype(W.dtype, copy=False)


def gradient_norm_curve(Wh, T=50, activation="tanh", input_scale=1.0, seed=0):
    """The experiment of lecture item 7: ||dJ/dh_t|| against the distance T - t for a given W_h.

    An RNN with this Wh (H, H), Wx ~ N(0, 1/H) (D = H) and b = 0 reads T random inputs
    x_t ~ N(0, input_scale^2 I) from h_0 = 0; g = dJ/dh_T is a random unit vector; the result is
    gradient_norms_through_time(hs, Wh, g, activation): norms (T,), norms[k] at distance k = T - t.
    Deterministic for a seed.
    """
    fn = "gradient_norm_curve"
    Wh = as_float_array(Wh, "Wh", fn, ndim=2)
    H = Wh.shape[0]
    T = require_positive_int(T, "T", fn)
    rng = as_generator(seed, fn, "seed")
    params = {"Wx": rng.normal(scale=H ** -0.5, size=(H, H)), "Wh": Wh, "b": np.zeros((H, 1))}
    xs = rng.normal(scale=input_scale, size=(T, H, 1))
    g = rng.normal(size=H)
    with np.errstate(over="ignore", invalid="ignore"):      # the identity with radius > 1 may overflow to inf
        hs, _ = rnn_forward(xs, np.zeros((H, 1)), params, activation)
        return gradient_norms_through_time(hs, Wh, g / np.linalg.norm(g), activation)


# ---------------------------------------------------------------------------- the cell interface


def _init(D, H, rng=None, dtype=np.float64):
    return init_rnn(D, H, rng, dtype)


def _forward(xs, state0, params):
    if state0 is None:                                   # the zero state h_0 = 0, (H, N)
        require_keys(params, KEYS, "params", "rnn_forward")
        Wh, xs = np.asarray(params["Wh"]), np.asarray(xs)
        state0 = np.zeros((Wh.shape[0] if Wh.ndim else 0, xs.shape[-1] if xs.ndim else 0),
                          dtype=np.result_type(xs.dtype, Wh.dtype, np.float32))
    return rnn_forward(xs, state0, params)


def _final_state(cache):
    return cache[1][:, -1].copy()


def _step(x, state, params):
    h, _ = rnn_step_forward(x, state, params)
    return h, h


def _zero_state(H, N, dtype=np.float64):
    return np.zeros((H, N), dtype=dtype)


#: the tanh RNN behind helpers.cells' interface (the state is h)
CELL = Cell(name="rnn", keys=KEYS, init=_init, forward=_forward, backward=rnn_backward, final_state=_final_state,
            step=_step, zero_state=_zero_state)
