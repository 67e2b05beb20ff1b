"""Looking inside the gated cells: how far back a gradient reaches, and what the gates do on a sentence.

How far back: ||dJ/dh_k|| (and the LSTM's ||dJ/dC_k||) against the distance T - k.

Lecture item 7 writes dJ/dh_k as a product of Jacobians dh_{t+1}/dh_t; for the RNN each factor is
diag(1 - h_{t+1}^2) W_h, and the product shrinks geometrically.  The LSTM's cell adds a second path,
    dJ/dC_{k-1} = f_k ⊙ dJ/dC_k + (the path through h_{k-1}),
multiplied only by the forget gates, and the GRU's output line h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t
passes dJ/dh_t on scaled by 1 - z_t: both are additive paths, like the identity shortcut of a
residual network (He et al. 2015), with a gate on it.

``state_gradient_norms`` measures these norms on a model of the delayed-copy task (helpers.copy_task):
the loss of the one asked step, T = k + 1, backpropagated to every earlier state.

What the gates do: ``lm_gate_activations`` runs an LSTM language model (helpers.rnn_lm) over one sentence
and returns f_t, i_t, o_t, C~_t, C_t and h_t at every word, for notebook 05's heat maps.
"""
from __future__ import annotations

import numpy as np

from .cells import get_cell
from .data.delayed_copy import delayed_copy
from .losses import softmax_cross_entropy
from .rnn import derivative_from_output
from .validate import as_float_array, require_positive_int


def rnn_state_gradients(dhs, cache):
    """dJ/dh_k for k = 0..T, (T + 1, H, N), through every path, for the RNN of helpers.rnn (its cache
    (X, states, params, activation)); dhs (T, H, N) is dJ/dh_t from above at every step, as for rnn_backward.
    dJ/dh_{k-1} = W_h^T (f'(z_k) ⊙ dJ/dh_k) + (from above at step k - 1)."""
    _, states, params, activation = cache
    H, T1, N = states.shape
    dhs = as_float_array(dhs, "dhs", "rnn_state_gradients", ndim=3)
    out = np.zeros((T1, H, N), dtype=np.result_type(dhs, states))
    out[T1 - 1] = dhs[T1 - 2]
    for k in range(T1 - 1, 0, -1):             # states[:, k] is h_k
        out[k - 1] = params["Wh"].T @ (derivative_from_output(states[:, k], activation) * out[k])
        if k >= 2:
            out[k - 1] += dhs[k - 2]
    return out


def state_gradient_norms(params, k, cell="rnn", n=256, seed=1):
    """Mean norms over n delayed-copy sequences of delay k (answer at the end, T = k + 1) of the gradient of the
    loss of the asked step with respect to every earlier state, by distance from that step.

    params: a delayed-copy model (helpers.copy_task.train_copy's, or helpers.rnn_lm.init_lm's for the untrained).
    Returns {"h": (T + 1,)} and, for the LSTM, also {"c": (T + 1,)}: entry d is the mean over the sequences of
    ||dJ/dh_{T-d}|| (or ||dJ/dC_{T-d}||), so d = 0 is the state that answers and d = T the initial state.
    """
    from . import gru, lstm
    cell = get_cell(cell)
    k, n = require_positive_int(k, "k", "state_gradient_norms"), require_positive_int(n, "n", "state_gradient_norms")
    E, U, b2 = params["E"], params["U"], params["b2"]
    inputs, targets = delayed_copy(n, k, E.shape[1], seed=seed)
    xs = E[:, inputs].transpose(1, 0, 2)
    hs, cache = cell.forward(xs, None, {key: params[key] for key in cell.keys})
    _, dscores = softmax_cross_entropy(U @ hs[-1] + b2, targets[-1])
    dhs = np.zeros_like(hs)
    dhs[-1] = U.T @ dscores * n                 # the loss of each sequence, not the batch mean
    if cell.name == "lstm":
        dh, dc = lstm.lstm_state_gradients(dhs, cache)
        found = {"h": dh, "c": dc}
    elif cell.name == "gru":
        found = {"h": gru.gru_state_gradients(dhs, cache)}
    elif cell.name == "rnn":
        found = {"h": rnn_state_gradients(dhs, cache)}
    else:
        raise ValueError(f"state_gradient_norms: argument 'cell' must be 'rnn', 'lstm' or 'gru'; received {cell.name!r}")
    return {key: np.linalg.norm(value, axis=1).mean(axis=1)[::-1] for key, value in found.items()}


def lm_gate_activations(params, ids):
    """What an LSTM language model's cell does while it reads one sentence: {'f', 'i', 'o', 'c_tilde', 'c',
    'h'}, each (T, H), row t after reading word t.  params: helpers.rnn_lm.init_lm(..., cell='lstm')'s keys
    (trained); ids (T,) the word ids read, e.g. [</s>, w_1, ..., w_n] as the model reads a sentence in the
    stream (the end token of the previous sentence first), from the zero state."""
    from . import lstm
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"lm_gate_activations: argument 'ids' must be a non-empty 1-D integer array; "
                         f"received {ids!r}"[:200])
    xs = params["E"][:, ids].T[:, :, None]                      # (T, D, 1)
    _, cache = lstm.lstm_forward(xs, None, {k: params[k] for k in lstm.KEYS})
    return {name: value[:, :, 0] for name, value in lstm.lstm_activations(cache).items()}


def boundary_forgetting(params, stream, eos=2, threshold=0.3):
    """Does an LSTM language model reset its memory between sentences?  Read a stream of ids
    (helpers.rnn_lm.lm_stream: sentences separated by </s>, id ``eos``) from the zero state and compare the
    forget gate f_t at the steps that read </s> with the other steps.

    Returns {"at_eos": mean f_t over the units and the </s> steps, "elsewhere": the same over the other steps,
    "units_closing": how many units have a mean f_t below ``threshold`` at </s>, "units": H}.
    (The course's corpus is read in a shuffled sentence order, so nothing carries over a boundary.)"""
    stream = np.asarray(stream)
    f = lm_gate_activations(params, stream)["f"]
    at_eos = stream == eos
    if not at_eos.any() or at_eos.all():
        raise ValueError("boundary_forgetting: argument 'stream' must hold </s> and other ids")
    return {"at_eos": float(f[at_eos].mean()), "elsewhere": float(f[~at_eos].mean()),
            "units_closing": int((f[at_eos].mean(axis=0) < threshold).sum()), "units": int(f.shape[1])}
