"""The recurrent neural language model (RNN-LM, Mikolov et al. 2010) of lecture item 6, for any cell.

    x_t = E[:, w_t]                       the vector of the word read at step t (E: (D, V), one column per word)
    h_t = cell(x_t, h_{t-1})              the RNN: h_t = tanh(W_h h_{t-1} + W_x x_t + b); or an LSTM or GRU
    y_hat_t = softmax(U h_t + b_2)        a distribution over the next word w_{t+1}
    J = (1/(T N)) sum_{t, n} -log y_hat_t[w_{t+1}]     the mean over the T N predictions of a batch

The cell is a parameter (helpers.cells: "rnn", "lstm", "gru"), so notebook 05 trains the same model
with an LSTM or a GRU.  Parameters: E (D, V), the cell's (e.g. Wx, Wh, b), U (V, H), b2 (V, 1).

Training reads the training split as one long stream of ids (its sentences shuffled each epoch),
cut into N parallel streams and windows of T + 1 ids (truncated backpropagation through time): the
hidden state is carried from one window to the next, but the gradient stops at the window's start.

Token accounting, as in notebook 03 (helpers.ngram): every word and one </s> per sentence is
predicted, <s> never.  The stream of a split is ``</s> w w ... w </s> w ... w </s>``: each
sentence is read after a </s> (the first one too), so </s> separates sentences and every
sentence start is conditioned the same way; the first </s> is only read, never predicted.
Per-token log-probabilities come in the order of NGramModel.grams(corpus, split), so the two
models can be interpolated token by token (Mikolov et al. 2010 mix an RNN-LM with Kneser-Ney).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .activations import log_softmax
from .cells import Cell, get_cell
from .clipping import clip_by_global_norm, clip_by_value, global_norm
from .losses import softmax_cross_entropy
from .ngram import EOS                  # the id of </s>, in the word and the character vocabularies
from .optim import sgd_step
from .progress import progress_bar
from .validate import (as_generator, describe, float_dtype, require_keys, require_positive_int, require_positive_number,
                       require_shape)

LM_KEYS = ("E", "U", "b2")


def _cell(cell, fn) -> Cell:
    try:
        return get_cell(cell)
    except ValueError as err:
        raise ValueError(f"{fn}: {err}") from None


def init_lm(V, D, H, cell="rnn", seed=0, dtype=np.float64, counts=None):
    """Random LM parameters {E, the cell's, U, b2}, all of ``dtype``.

    E (D, V) ~ N(0, 0.1^2) as in the window LM;  the cell's from cell.init(D, H, rng, dtype);
    U (V, H) ~ N(0, 0.01 / H), so the first scores are small;  b2 (V, 1) = 0, or, given counts (V,)
    of the words in the training text, their add-one smoothed log relative frequencies: the untrained
    model then predicts the unigram distribution, which saves the first epoch the work of learning it.
    """
    fn = "init_lm"
    V, D, H = (require_positive_int(v, n, fn) for v, n in ((V, "V"), (D, "D"), (H, "H")))
    cell, dtype, rng = _cell(cell, fn), float_dtype(dtype, fn), as_generator(seed, fn, "seed")
    E = rng.normal(scale=0.1, size=(D, V)).astype(dtype)
    cell_params = cell.init(D, H, rng, dtype)
    U = rng.normal(scale=0.1 * H ** -0.5, size=(V, H)).astype(dtype)
    b2 = np.zeros((V, 1), dtype)
    if counts is not None:
        counts = np.asarray(counts)
        if counts.shape != (V,) or not np.issubdtype(counts.dtype, np.number) or counts.min() < 0:
            raise ValueError(f"{fn}: argument 'counts' must be {V} non-negative word counts, shape ({V},); "
                             f"received {describe(counts)}")
        b2[:, 0] = np.log((counts + 1.0) / (counts.sum() + V))
    return {"E": E, **cell_params, "U": U, "b2": b2}


def _split_params(params, cell, fn):
    """(E, U, b2, the cell's parameters) of params, their shapes checked against each other."""
    require_keys(params, LM_KEYS + tuple(cell.keys), "params", fn)
    E, U, b2 = params["E"], params["U"], params["b2"]
    for name, arr in (("E", E), ("U", U), ("b2", b2)):
        if not isinstance(arr, np.ndarray) or arr.ndim != 2 or not np.issubdtype(arr.dtype, np.floating):
            raise TypeError(f"{fn}: argument 'params[{name!r}]' must be a 2-D float array; received {describe(arr)}")
    require_shape(U, (E.shape[1], None), "params['U']", fn)
    require_shape(b2, (E.shape[1], 1), "params['b2']", fn)
    return E, U, b2, {k: params[k] for k in cell.keys}


def _ids(ids, V, fn, name="ids", ndim=2, min_len=2):
    """ids as an integer array of ``ndim`` dimensions, at least ``min_len`` along axis 0, values in [0, V)."""
    ids = np.asarray(ids)
    if ids.ndim != ndim or not np.issubdtype(ids.dtype, np.integer) or ids.shape[0] < min_len \
            or (ndim == 2 and ids.shape[1] < 1):
        wanted = f"(L,) with L >= {min_len}" if ndim == 1 else \
            "(T + 1, N) with T >= 1 and N >= 1" if min_len == 2 else "(T, N) with T >= 1 and N >= 1"
        raise ValueError(f"{fn}: argument '{name}' must be an integer array of shape {wanted}; "
                         f"received {describe(ids)}")
    if ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"{fn}: argument '{name}' must hold word ids in [0, {V}); received ids from "
                         f"{ids.min()} to {ids.max()}")
    return ids


def _embed_and_run(E, cell, cell_params, inputs, state0, keep_x=None):
    """Word vectors of inputs (T, N) through the cell: (hidden states as columns (H, T N), cache).

    Column t N + n is h_{t+1} of stream n, the order of inputs.ravel(); for the RNN it is a view.
    keep_x: a dropout mask (T, D, N) (0 or 1 / (1 - rate)) multiplied into the word vectors, or None."""
    xs = E[:, inputs].transpose(1, 0, 2)                       # (T, D, N), x_t = E[:, w_t]
    if keep_x is not None:
        xs = xs * keep_x
    hs, cache = cell.forward(xs, state0, cell_params)
    T, H, N = hs.shape
    return hs.transpose(1, 0, 2).reshape(H, T * N), cache


def scatter_columns(columns, ids, V):
    """dE (D, V): column v is the sum of columns[:, j] over every j with ids[j] == v (words read
    several times add up).  columns (D, M), ids (M,).  One np.bincount per row of dE: measured
    2.5 times faster than np.add.at on dE.T at D = 64, M = 1024, V = 2000."""
    dE = np.empty((columns.shape[0], V), dtype=columns.dtype)
    for row, values in zip(dE, columns):
        row[:] = np.bincount(ids, weights=values, minlength=V)
    return dE


def _dropout_mask(rng, shape, rate, dtype):
    """Inverted dropout (Srivastava et al. 2014): each entry 0 with probability rate, else 1 / (1 - rate)."""
    return ((rng.random(shape) >= rate) / (1.0 - rate)).astype(dtype)


def _sequence_loss(weights, cell, inputs, targets, state0, start=0, dropout=0.0, rng=None):
    """The model reads inputs (T, N) and predicts targets[start:] (T - start, N); (J, grads, state_last).
    weights: (E, U, b2, the cell's parameters) from _split_params.  dropout > 0 (training only): dropout on
    the connections that are not recurrent, the word vectors x_t and the h_t fed to the output layer
    (Zaremba, Sutskever & Vinyals 2014), masks drawn from rng."""
    E, U, b2, cell_params = weights
    D, V = E.shape
    T, N = inputs.shape
    keep_x = _dropout_mask(rng, (T, D, N), dropout, E.dtype) if dropout else None
    hidden, cache = _embed_and_run(E, cell, cell_params, inputs, state0, keep_x)
    H = hidden.shape[0]
    used = hidden[:, start * N:]                                # h_t of the predicting steps (all, for the LM)
    keep_h = _dropout_mask(rng, used.shape, dropout, used.dtype) if dropout else None
    if keep_h is not None:
        used = used * keep_h
    scores = U @ used                                           # the output layer of all those steps: one product
    scores += b2
    J, dscores = softmax_cross_entropy(scores, targets[start:].ravel())
    dhidden = U.T @ dscores
    if keep_h is not None:
        dhidden *= keep_h
    if start:                                                   # steps before start get no gradient from above
        dhidden = np.concatenate([np.zeros((H, start * N), dhidden.dtype), dhidden], axis=1)
    dxs, _, grads = cell.backward(dhidden.reshape(H, T, N).transpose(1, 0, 2), cache)   # dJ/dh_t: (T, H, N)
    if keep_x is not None:
        dxs = dxs * keep_x
    dX = dxs.transpose(1, 0, 2).reshape(D, T * N)
    grads = {"E": scatter_columns(dX, inputs.ravel(), V), **grads,
             "U": dscores @ used.T, "b2": dscores.sum(axis=1, keepdims=True)}
    return J, grads, cell.final_state(cache)


def _lm_loss(params, ids, state0, cell, fn, dropout=0.0, rng=None):
    cell = _cell(cell, fn)
    weights = _split_params(params, cell, fn)
    ids = _ids(ids, weights[0].shape[1], fn)
    return _sequence_loss(weights, cell, ids[:-1], ids[1:], state0, 0, dropout, rng)   # the last id: only a target


def sequence_loss(params, inputs, targets, state0, cell="rnn", start=0):
    """The same model predicting given targets instead of the next word: (J, grads, state_last).

    inputs, targets: (T, N) int ids;  at step t the model reads inputs[t] and, for t >= start,
    predicts targets[t] (in [0, V));  targets[:start] are not used (e.g. -1: no answer yet).
    J is the mean cross-entropy over the (T - start) N predictions.  lm_loss(params, ids, state0)
    is sequence_loss(params, ids[:-1], ids[1:], state0).  Used by the delayed-copy task
    (helpers.copy_task), whose first k steps have nothing to predict.
    """
    fn = "sequence_loss"
    cell = _cell(cell, fn)
    weights = _split_params(params, cell, fn)
    inputs = _ids(inputs, weights[0].shape[1], fn, "inputs", min_len=1)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < len(inputs):
        raise ValueError(f"{fn}: argument 'start' must be an integer in [0, {len(inputs)}); received {start!r}")
    targets = np.asarray(targets)
    require_shape(targets, inputs.shape, "targets", fn)
    _ids(targets[start:], weights[0].shape[1], fn, "targets[start:]", min_len=1)
    return _sequence_loss(weights, cell, inputs, targets, state0, int(start))


def lm_loss(params, ids, state0, cell="rnn"):
    """Loss and gradients of one batch of windows: (J, grads, state_last).

    params: init_lm's dict for this cell;  ids: (T + 1, N) int word ids, column n one stream;
    inputs ids[:-1], targets ids[1:];  state0: the cell's state before the first input
    (RNN: h0 (H, N)), a constant (its gradient is not returned: truncated BPTT).
    J: the mean cross-entropy over the T N predictions (float);  grads: a dict with the keys of
    params;  state_last: the state after the last input, to start the next window with.
    Float32 parameters give float32 gradients.
    """
    return _lm_loss(params, ids, state0, cell, "lm_loss")


def rnn_lm_loss(params, ids, h0):
    """lm_loss for the tanh RNN: (J, grads {E, Wx, Wh, b, U, b2}, h_last), h0 and h_last (H, N)."""
    return _lm_loss(params, ids, h0, "rnn", "rnn_lm_loss")


def sequence_scores(params, inputs, state0, cell="rnn"):
    """Forward only: the scores U h_t + b2 of every step.  inputs (T, N) ids -> (scores (T, V, N), state_last).

    y_hat_t = softmax(scores[t]) column by column; the most likely next id is scores[t].argmax(axis=0)."""
    fn = "sequence_scores"
    cell = _cell(cell, fn)
    E, U, b2, cell_params = _split_params(params, cell, fn)
    inputs = _ids(inputs, E.shape[1], fn, "inputs", min_len=1)
    hidden, cache = _embed_and_run(E, cell, cell_params, inputs, state0)
    scores = U @ hidden + b2
    return scores.reshape(-1, *inputs.shape).transpose(1, 0, 2), cell.final_state(cache)


# ---------------------------------------------------------------------------- streams and windows


def lm_stream(corpus, split, order=None):
    """The ids of a split as one stream ``</s> s_1 </s> s_2 </s> ...`` (L,) int64, L = n_tokens(split) + 1.

    Positions 1..L-1 are the predicted tokens, in the order of NGramModel.grams(corpus, split).
    order: optionally, a permutation of the sentence indices to read them in (training shuffles)."""
    sentences = getattr(corpus, split)
    if order is not None:
        sentences = [sentences[i] for i in order]
    return np.concatenate([[EOS]] + [np.append(s, EOS) for s in sentences]).astype(np.int64)


def tbptt_batches(stream, N, T):
    """Windows for truncated BPTT: the stream cut into N parallel streams, windows of T + 1 ids.

    stream: (L,) ids.  Returns an array (K, T + 1, N): column n of every window is taken from the
    n-th of N consecutive pieces of length M = L // N (the last L - N M ids are dropped), and
    window k holds positions k T ... k T + T of each piece, so consecutive windows overlap by
    exactly one id: the last target of window k is the first input of window k + 1, no target is
    skipped or repeated at the seams.  K = (M - 1) // T; the last (M - 1) - K T targets of each
    piece are dropped.  Targets: the first id of each piece is only read, so N K T ids are predicted.
    """
    fn = "tbptt_batches"
    N, T = require_positive_int(N, "N", fn), require_positive_int(T, "T", fn)
    stream = np.asarray(stream)
    if stream.ndim != 1 or not np.issubdtype(stream.dtype, np.integer):
        raise ValueError(f"{fn}: argument 'stream' must be a 1-D integer array; received {describe(stream)}")
    M = len(stream) // N
    if M < T + 1:
        raise ValueError(f"{fn}: argument 'stream' is too short for N = {N} streams of T + 1 = {T + 1} ids; "
                         f"received {len(stream)} ids, need at least {N * (T + 1)}")
    pieces = stream[:N * M].reshape(N, M).T                     # (M, N), time-major
    K = (M - 1) // T
    positions = T * np.arange(K)[:, None] + np.arange(T + 1)[None, :]
    return pieces[positions]


# ---------------------------------------------------------------------------- evaluation


def stream_logprobs(params, stream, cell="rnn", chunk=512):
    """log y_hat[w_{i+1}] of every token after the first of one stream, reading it from a zero state.

    stream: (L,) ids;  returns (L - 1,) natural-log probabilities (float64).  The stream is read as
    one sequence (N = 1), in chunks of ``chunk`` steps with the state carried across (the same
    result as one pass, with bounded memory)."""
    fn = "stream_logprobs"
    cell = _cell(cell, fn)
    E, U, b2, cell_params = _split_params(params, cell, fn)
    stream = _ids(stream, E.shape[1], fn, "stream", ndim=1)
    chunk = require_positive_int(chunk, "chunk", fn)
    state = cell.zero_state(U.shape[1], 1, np.result_type(E, U))
    out = np.empty(len(stream) - 1)
    for start in range(0, len(stream) - 1, chunk):
        ids = stream[start:start + chunk + 1]
        hidden, cache = _embed_and_run(E, cell, cell_params, ids[:-1, None], state)
        state = cell.final_state(cache)
        log_p = log_softmax(U @ hidden + b2)
        out[start:start + len(ids) - 1] = log_p[ids[1:], np.arange(len(ids) - 1)]
    return out


def token_logprobs(params, corpus, split, cell="rnn"):
    """Natural-log probabilities (n_tokens(split),) of the split's predicted tokens, row by row aligned with
    helpers.ngram.NGramModel.grams(corpus, split) (each sentence's words, then its </s>)."""
    return stream_logprobs(params, lm_stream(corpus, split), cell)


def evaluate_lm(params, corpus, split, cell="rnn"):
    """Mean negative log-likelihood per token (nats) over a split; perplexity = exp of it.

    Every word and one </s> per sentence is predicted, <s> never: corpus.n_tokens(split) tokens, as
    the n-gram and window models of notebook 03 count them."""
    return float(-np.mean(token_logprobs(params, corpus, split, cell)))


def mix_logprobs(logp_a, logp_b, weight):
    """log(weight p_a + (1 - weight) p_b) per token, from log-probabilities (M,) of two models.

    Linear interpolation of two language models (Mikolov et al. 2010: RNN-LM with Kneser-Ney);
    weight in [0, 1].  Computed with logaddexp, exact where p_a or p_b underflows."""
    logp_a, logp_b = np.asarray(logp_a, dtype=float), np.asarray(logp_b, dtype=float)
    if logp_a.shape != logp_b.shape:
        raise ValueError(f"mix_logprobs: arguments 'logp_a' and 'logp_b' must have the same shape; received "
                         f"{logp_a.shape} and {logp_b.shape}")
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.integer, np.floating)) \
            or not 0 <= weight <= 1:
        raise ValueError(f"mix_logprobs: argument 'weight' must be a number in [0, 1]; received {weight!r}")
    with np.errstate(divide="ignore"):
        return np.logaddexp(np.log(weight) + logp_a, np.log1p(-weight) + logp_b)


def tune_mix_weight(logp_a, logp_b, steps=20):
    """The weight on the grid 0, 1/steps, ..., 1 with the lowest perplexity of the mix (tune it on dev).

    Returns (weight, perplexities (steps + 1,) along the grid)."""
    steps = require_positive_int(steps, "steps", "tune_mix_weight")
    grid = np.linspace(0.0, 1.0, steps + 1)
    ppl = np.array([math.exp(-np.mean(mix_logprobs(logp_a, logp_b, w))) for w in grid])
    return float(grid[np.argmin(ppl)]), ppl


# ---------------------------------------------------------------------------- training


def _clipper(clip, fn):
    """A function grads -> grads for clip = None, ("norm", max_norm), ("value", value) or such a function."""
    if clip is None:
        return lambda grads: grads
    if callable(clip):
        return clip
    if isinstance(clip, tuple) and len(clip) == 2 and clip[0] in ("norm", "value"):
        threshold = require_positive_number(clip[1], "clip", fn)
        if clip[0] == "norm":
            return lambda grads: clip_by_global_norm(grads, threshold)[0]
        return lambda grads: clip_by_value(grads, threshold)
    raise ValueError(f"{fn}: argument 'clip' must be None, ('norm', max_norm), ('value', value) or a function "
                     f"grads -> grads; received {clip!r}")


def train_lm(corpus, cell="rnn", D=32, H=64, T=16, N=8, epochs=8, lr=2.0, clip=("norm", 5.0), lr_decay=0.5,
             min_gain=0.01, shuffle=True, seed=0, dtype=np.float32, max_steps=None, progress=True, loss=None,
             batches=None, callback=None, dropout=0.0):
    """Train an LM on corpus.train by SGD with truncated BPTT; returns (params, history).

    Each epoch, the training sentences in a new random order (shuffle=True; else the corpus order)
    make one stream (lm_stream), cut by tbptt_batches(stream, N, T) into windows that are read in
    order, the state carried from window to window (zero at the start of an epoch) but never
    differentiated through.  A step: lm_loss, the global gradient norm, clipping (None,
    ("norm", max_norm): clip_by_global_norm, or ("value", v): clip_by_value), sgd_step with rate lr.
    Learning-rate schedule (Mikolov's RNNLM toolkit): from the first epoch that lowers the best dev
    perplexity by less than the share min_gain, lr is multiplied by lr_decay after every epoch.
    The parameters returned are those of the epoch with the lowest dev perplexity.  b2 starts at
    the log unigram frequencies of the training text (init_lm's counts).
    A step whose loss or gradient norm is not finite stops training (history["diverged"]).
    max_steps: stop after that many steps (short experiments).  progress: a progress bar (helpers.progress).
    Notebook 04 trains with the student's own functions through three hooks: clip may be a function
    grads -> clipped grads (e.g. lambda g: clip_by_global_norm(g, 5.0)[0]);  loss, a function
    (params, ids, state0) -> (J, grads, state_last) used in place of lm_loss(params, ids, state0, cell)
    (e.g. rnn_lm_loss);  batches, a function (stream, N, T) -> windows (K, T + 1, N) used in place of
    tbptt_batches.  Evaluation always uses the cell's forward pass.
    callback: called after each epoch's dev evaluation as callback(epoch, params, history), e.g. to print a
    sample of the model as it learns (notebook 06).  dropout: a rate in [0, 1) of dropout on the word vectors
    and on the hidden states fed to the output layer, never on the recurrent path (Zaremba et al. 2014), in
    training only (masks from the seed); 0 by default.

    history: "loss" and "grad_norm" per step (the norm before clipping); per epoch "train_nll"
    (the mean step loss), "dev_ppl", "lr" (the rate used), "seconds" (training time of the epoch,
    dev evaluation excluded); "best_epoch" (index, None if no epoch ended), "diverged" (step or None).

    Measured on load_corpus() with the defaults (0.3 s per epoch of 207 steps): dev perplexity 169,
    143, 129 after 1, 2, 3 epochs, 103 after 8 (test 98; the window LM of notebook 03: 106); 20
    epochs or H = 128 or 256 end at the same 102 to 104: the 26,000 training words are the limit.
    At lr = 4 (or 3.5) without clipping the loss jumps to 30 and more within the first epoch
    (gradient norms up to 2,500); clip=("norm", 0.5) or ("value", 0.01) train normally.
    """
    fn = "train_lm"
    cell = _cell(cell, fn)
    epochs, T, N = (require_positive_int(v, n, fn) for v, n in ((epochs, "epochs"), (T, "T"), (N, "N")))
    lr, lr_decay = require_positive_number(lr, "lr", fn), require_positive_number(lr_decay, "lr_decay", fn)
    if isinstance(min_gain, bool) or not isinstance(min_gain, (int, float)) or not 0 <= min_gain < 1:
        raise ValueError(f"{fn}: argument 'min_gain' must be a number in [0, 1); received {min_gain!r}")
    clipper = _clipper(clip, fn)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"{fn}: argument 'dropout' must be a number in [0, 1); received {dropout!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"{fn}: argument 'callback' must be None or a function (epoch, params, history); "
                        f"received {describe(callback)}")
    max_steps = math.inf if max_steps is None else require_positive_int(max_steps, "max_steps", fn)
    for name, hook in (("loss", loss), ("batches", batches)):
        if hook is not None and not callable(hook):
            raise TypeError(f"{fn}: argument '{name}' must be None or a function; received {describe(hook)}")
    if loss is not None and dropout:
        raise ValueError(f"{fn}: argument 'dropout' needs the course's loss; received dropout={dropout} with a "
                         f"loss function of your own")
    batches = batches or tbptt_batches
    stream = lm_stream(corpus, "train")
    params = init_lm(corpus.V, D, H, cell, seed, dtype, counts=np.bincount(stream[1:], minlength=corpus.V))
    rng = np.random.default_rng(seed)
    if loss is None:
        def loss(params, ids, state0):
            return _lm_loss(params, ids, state0, cell, fn, dropout, rng)
    history = {"loss": [], "grad_norm": [], "train_nll": [], "dev_ppl": [], "lr": [], "seconds": [],
               "best_epoch": None, "diverged": None}
    best, decaying = params, False
    bar = progress_bar(total=min(epochs * len(batches(stream, N, T)), max_steps),
                       desc=f"{cell.name.upper()}-LM", enabled=progress)
    # a diverging run is detected (history["diverged"]), not warned about
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(epochs):
            last = f", dev perplexity {history['dev_ppl'][-1]:.1f}" if history["dev_ppl"] else ""
            bar.set_description(f"{cell.name.upper()}-LM epoch {epoch + 1}/{epochs}{last}")
            order = rng.permutation(len(corpus.train)) if shuffle else None
            windows = batches(lm_stream(corpus, "train", order), N, T)
            params = _epoch(params, windows, cell, loss, lambda p, g: sgd_step(p, clipper(g), lr), history, bar,
                            max_steps)
            history["lr"].append(lr)
            if history["diverged"] is not None:
                break
            history["dev_ppl"].append(float(np.exp(evaluate_lm(params, corpus, "dev", cell))))   # inf past e^709
            best_ppl = min(history["dev_ppl"][:-1], default=math.inf)
            decaying |= history["dev_ppl"][-1] > (1 - min_gain) * best_ppl
            if history["dev_ppl"][-1] < best_ppl:
                best, history["best_epoch"] = params, epoch
            if decaying:
                lr *= lr_decay
            if callback is not None:
                callback(epoch, params, history)
            if len(history["loss"]) >= max_steps:
                break
    if history["dev_ppl"]:
        bar.set_description(f"{cell.name.upper()}-LM, dev perplexity {history['dev_ppl'][-1]:.1f}")
    bar.close()
    return (params if history["best_epoch"] is None else best), history


def _epoch(params, windows, cell, loss, update, history, bar, max_steps):
    """One pass over the windows (K, T + 1, N), carrying the state; appends to history, returns params.
    loss(params, ids, state0) -> (J, grads, state_last)."""
    H, N = params["U"].shape[1], windows.shape[2]
    state, start, losses = cell.zero_state(H, N, params["U"].dtype), time.perf_counter(), []
    for ids in windows:
        J, grads, state = loss(params, ids, state)
        norm = global_norm(grads)
        history["loss"].append(J)
        history["grad_norm"].append(norm)
        if not (math.isfinite(J) and math.isfinite(norm)):
            history["diverged"] = len(history["loss"]) - 1
            break
        params = update(params, grads)
        losses.append(J)
        bar.update()
        bar.set_postfix(loss=f"{J:.3f}", refresh=False)
        if len(history["loss"]) >= max_steps:
            break
    history["seconds"].append(time.perf_counter() - start)
    history["train_nll"].append(float(np.mean(losses)) if losses else math.nan)
    return params
