"""A sentence classifier on any recurrent cell, reading forwards or in both directions (lecture item 10).

    x_t = E[:, w_t]                                  the word vectors (E: (D, V), one column per word)
    h_1 .. h_T = cell(x_1 .. x_T)                    an RNN, LSTM or GRU (helpers.cells), from the zero state
    r = h_T                                          forwards: the state after the last word
    r = [h_T^fw; h_1^bw]                             bidirectional: each direction's state after the whole sentence
    s = u^T r,   y_hat = sigmoid(s)                  the score and the probability of "positive", as in notebook 02
    J = binary cross-entropy of s, the mean over the batch

Unlike notebook 02's averaged word vectors, r depends on the order of the words, so "good but dull"
and "dull but good" can get different labels.  The sentences of a batch all have the same length
(``length_batches`` groups them), so no padding is ever read; a bidirectional model's backward
direction starts at the real last word.

Parameters: E (D, V), u (R, 1) with R = H or 2H, and the cell's (helpers.cells names; with the
suffixes ^fw and ^bw for the two directions of a bidirectional model).  ``functions`` lets a caller
use other implementations of helpers.bidirectional's two functions (notebook 05 passes the
student's own), with the same signatures.
"""
from __future__ import annotations

import time

import numpy as np

from . import bidirectional as bi
from .activations import sigmoid
from .cells import get_cell
from .clipping import clip_by_global_norm
from .losses import bce_with_logits
from .optim import sgd_step
from .progress import progress_bar
from .rnn_lm import scatter_columns
from .validate import (as_float_array, as_generator, describe, float_dtype, require_keys, require_positive_int,
                       require_positive_number, require_shape)

DIRECTIONS = ("fw", "bw")


def parameter_keys(cell, bidirectional=False) -> tuple:
    """('E', the cell's keys (with ^fw and ^bw when bidirectional), 'u')."""
    keys = get_cell(cell).keys
    if bidirectional:
        keys = tuple(f"{k}^{d}" for d in DIRECTIONS for k in keys)
    return ("E", *keys, "u")


def init_sequence_classifier(V, D=16, H=16, cell="lstm", bidirectional=False, seed=0, dtype=np.float64):
    """Random parameters: E ~ N(0, 1) (as notebook 02's), the cell's from cell.init (one set per direction),
    u ~ N(0, 1/R) with R = H, or 2H when bidirectional.  seed: an int or a np.random.Generator."""
    fn = "init_sequence_classifier"
    V, D, H = (require_positive_int(v, n, fn) for v, n in ((V, "V"), (D, "D"), (H, "H")))
    cell, dtype, rng = get_cell(cell), float_dtype(dtype, fn), as_generator(seed, fn, "seed")
    params = {"E": rng.normal(size=(D, V)).astype(dtype)}
    for suffix in ([f"^{d}" for d in DIRECTIONS] if bidirectional else [""]):
        params.update({f"{k}{suffix}": v for k, v in cell.init(D, H, rng, dtype).items()})
    R = 2 * H if bidirectional else H
    params["u"] = rng.normal(scale=R ** -0.5, size=(R, 1)).astype(dtype)
    return params


def _direction(params, cell, suffix):
    return {k: params[f"{k}{suffix}"] for k in cell.keys}


def sequence_classifier_forward(params, ids, cell="lstm", bidirectional=False, functions=None):
    """Scores s (1, N) of a batch of sentences of one length, ids (T, N) int, and the cache for the backward pass.

    functions: None, or (bidirectional_forward, bidirectional_backward) with helpers.bidirectional's signatures,
    used instead of its own (bidirectional models only)."""
    fn = "sequence_classifier_forward"
    cell = get_cell(cell)
    require_keys(params, parameter_keys(cell, bidirectional), "params", fn)
    E = as_float_array(params["E"], "params['E']", fn, ndim=2)
    ids = np.asarray(ids)
    if ids.ndim != 2 or 0 in ids.shape or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{fn}: argument 'ids' must be a 2-D integer array (T, N) with T, N >= 1; "
                         f"received {describe(ids)}")
    if ids.min() < 0 or ids.max() >= E.shape[1]:
        raise ValueError(f"{fn}: argument 'ids' must hold word ids in [0, {E.shape[1]}); received ids from "
                         f"{ids.min()} to {ids.max()}")
    forward, backward = functions or (bi.bidirectional_forward, bi.bidirectional_backward)
    xs = E[:, ids].transpose(1, 0, 2)                           # (T, D, N): x_t = E[:, w_t]
    if bidirectional:
        hs, inner = forward(xs, _direction(params, cell, "^fw"), _direction(params, cell, "^bw"), cell)
        H_fw = inner[3]
        r = np.concatenate([hs[-1, :H_fw], hs[0, H_fw:]])        # [h_T^fw; h_1^bw]
    else:
        hs, inner = cell.forward(xs, None, _direction(params, cell, ""))
        H_fw, r = hs.shape[1], hs[-1]
    u = as_float_array(params["u"], "params['u']", fn, ndim=2)
    require_shape(u, (r.shape[0], 1), "params['u']", fn)
    return u.T @ r, (ids, E.shape[1], cell, bidirectional, backward, inner, hs.shape, H_fw, r, u)


def sequence_classifier_backward(ds, cache):
    """Gradients {E, the cell's, u} of J from ds = dJ/ds (1, N), through the readout, the cell and the word vectors."""
    ids, V, cell, bidirectional, backward, inner, shape, H_fw, r, u = cache
    ds = as_float_array(ds, "ds", "sequence_classifier_backward", ndim=2)
    require_shape(ds, (1, r.shape[1]), "ds", "sequence_classifier_backward")
    dr = u @ ds
    dhs = np.zeros(shape, dtype=np.result_type(r, ds))
    if bidirectional:
        dhs[-1, :H_fw], dhs[0, H_fw:] = dr[:H_fw], dr[H_fw:]
        dxs, _, grads_fw, grads_bw = backward(dhs, inner)
        grads = {**{f"{k}^fw": v for k, v in grads_fw.items()}, **{f"{k}^bw": v for k, v in grads_bw.items()}}
    else:
        dhs[-1] = dr
        dxs, _, grads = cell.backward(dhs, inner)
    T, D, N = dxs.shape
    dE = scatter_columns(np.ascontiguousarray(dxs.transpose(1, 0, 2)).reshape(D, T * N), ids.ravel(), V)
    return {"E": dE, **grads, "u": r @ ds.T}


# ---------------------------------------------------------------- data, prediction, training


def _lengths(split):
    return np.asarray(split.mask).sum(axis=0).astype(np.int64)


def length_batches(split, batch_size=32, rng=None):
    """Batches of sentence indices of ``split`` (a helpers.data.sentiment Split), each of one length: the
    sentences of every length in chunks of at most batch_size.  With rng (a Generator or seed) the sentences
    are shuffled within each length and the batches shuffled; without, in order."""
    batch_size = require_positive_int(batch_size, "batch_size", "length_batches")
    rng = None if rng is None else as_generator(rng, "length_batches")
    lengths, batches = _lengths(split), []
    for length in np.unique(lengths):
        members = np.flatnonzero(lengths == length)
        if rng is not None:
            members = rng.permutation(members)
        batches += [members[i:i + batch_size] for i in range(0, len(members), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _batch_ids(split, batch):
    return split.ids[:_lengths(split)[batch[0]], batch]


def predict_proba(params, split, cell="lstm", bidirectional=False, functions=None, batch_size=512):
    """y_hat (1, N): the probability of "positive" for every sentence of the split, in its order."""
    y_hat = np.empty((1, len(split)))
    for batch in length_batches(split, batch_size):
        s, _ = sequence_classifier_forward(params, _batch_ids(split, batch), cell, bidirectional, functions)
        y_hat[0, batch] = sigmoid(s[0])
    return y_hat


def accuracy_by_kind(params, split, cell="lstm", bidirectional=False, functions=None):
    """{kind: accuracy} over the split's kinds of sentence, and "all": the accuracy on the whole split."""
    right = (predict_proba(params, split, cell, bidirectional, functions)[0] > 0.5) == (split.y[0] > 0.5)
    kinds = np.asarray(split.kinds)
    return {**{kind: float(right[kinds == kind].mean()) for kind in dict.fromkeys(kinds.tolist())},
            "all": float(right.mean())}


def train_sequence_classifier(data, cell="lstm", bidirectional=False, D=16, H=16, epochs=5, lr=0.5, batch_size=32,
                              max_norm=5.0, seed=0, functions=None, max_steps=None, progress=True):
    """Train on data.train (helpers.data.sentiment's SentimentData) by minibatch SGD, the gradient clipped to
    global norm max_norm; returns (params, history).  Every epoch reads all sentences once, in new batches of
    one length each (length_batches).  max_steps: stop after that many steps (a short run).
    history: per epoch "loss" (the mean over its batches), "dev_acc" and "seconds" (training time of the
    epoch, evaluation excluded)."""
    fn = "train_sequence_classifier"
    cell = get_cell(cell)
    epochs = require_positive_int(epochs, "epochs", fn)
    lr, max_norm = require_positive_number(lr, "lr", fn), require_positive_number(max_norm, "max_norm", fn)
    max_steps = np.inf if max_steps is None else require_positive_int(max_steps, "max_steps", fn)
    params = init_sequence_classifier(len(data.vocab), D, H, cell, bidirectional, seed)
    rng, steps = np.random.default_rng(seed), 0
    history = {"loss": [], "dev_acc": [], "seconds": []}
    name = f"{'bi' if bidirectional else ''}{cell.name.upper()} classifier"
    bar = progress_bar(total=epochs, desc=name, enabled=progress)
    for _ in range(epochs):
        start, losses = time.perf_counter(), []
        for batch in length_batches(data.train, batch_size, rng):
            s, cache = sequence_classifier_forward(params, _batch_ids(data.train, batch), cell, bidirectional,
                                                   functions)
            J, ds = bce_with_logits(s, data.train.y[:, batch])
            grads = sequence_classifier_backward(ds, cache)
            params = sgd_step(params, clip_by_global_norm(grads, max_norm)[0], lr)
            losses.append(J)
            steps += 1
            if steps >= max_steps:
                break
        history["seconds"].append(time.perf_counter() - start)
        history["loss"].append(float(np.mean(losses)))
        history["dev_acc"].append(accuracy_by_kind(params, data.dev, cell, bidirectional, functions)["all"])
        bar.update()
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", dev=f"{history['dev_acc'][-1]:.1%}", refresh=False)
        if steps >= max_steps:
            break
    bar.close()
    return params, history


#: notebook 02's averaged-word-vector classifier on the dev split, accuracy per kind of sentence (D = H = 16,
#: lr 1, 10 epochs of batches of 32, seed 0; tests/test_sequence_classifier.py recomputes these), for comparison
AVERAGED_VECTORS_02 = {
    "no hidden nonlinearity": {"plain": 0.946, "intensified": 0.971, "negated": 0.098, "contrast": 0.557},
    "tanh hidden layer": {"plain": 0.997, "intensified": 1.0, "negated": 0.995, "contrast": 0.506},
}
