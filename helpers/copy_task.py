"""How far back can a recurrent network remember?  Training a cell on the delayed-copy task.

The model is the language model's (helpers.rnn_lm): a vector per symbol, the cell, and a softmax
over the symbols, here asked for the token k steps back (helpers.data.delayed_copy) rather than
the next one.  Every training step draws a fresh batch, so there is nothing to overfit; accuracy
is measured on sequences drawn from another seed.  With an RNN, accuracy stays at 1 for small k
and falls to chance (1 / symbols) after a few steps: the gradient that should teach it to keep
x_{t-k} is a product of k Jacobians and vanishes (lecture item 7).  The cell is a parameter, so
notebook 05 reruns the same experiment with the LSTM and the GRU.

Measured with the defaults (H = 32, 4 symbols, 300 steps of 32 sequences, about 0.15 s per k on one
thread): the answer at the end is learnt perfectly up to k = 6 and not at all (accuracy 0.25)
from k = 7 on; 1000 steps move the edge by one step.  Every step asked: 1.0 up to k = 3, then
0.95, 0.84, 0.67 and chance from k = 7.  With W_h initialised at spectral radius 1 instead of
init_rnn's 0.5 (params=...), the RNN keeps the token for 20 steps (0.59 at k = 24).
"""
from __future__ import annotations

import numpy as np

from .cells import get_cell
from .clipping import clip_by_global_norm
from .data.delayed_copy import delayed_copy
from .optim import sgd_step
from .rnn_lm import init_lm, sequence_loss, sequence_scores
from .validate import as_generator, require_positive_int, require_positive_number


def train_copy(k, cell="rnn", H=32, D=8, symbols=4, every_step=False, length=8, N=32, steps=300, lr=0.5,
               max_norm=1.0, seed=0, dtype=np.float32, params=None):
    """Train a cell on the delayed-copy task with delay k; returns (params, losses (steps,)).

    SGD on fresh batches of N sequences (delayed_copy(N, k, symbols, every_step, length)), the
    gradient clipped to global norm max_norm, rate lr.  params: initial parameters (default
    init_lm(symbols, D, H, cell, seed, dtype)), e.g. to try another initialisation of W_h.
    """
    fn = "train_copy"
    cell = get_cell(cell)
    steps, N = require_positive_int(steps, "steps", fn), require_positive_int(N, "N", fn)
    lr, max_norm = require_positive_number(lr, "lr", fn), require_positive_number(max_norm, "max_norm", fn)
    if params is None:
        params = init_lm(symbols, D, H, cell, seed, dtype)
    H, rng = params["U"].shape[1], as_generator(seed, fn, "seed")
    state0 = cell.zero_state(H, N, params["U"].dtype)
    losses = np.empty(steps)
    for step in range(steps):
        inputs, targets = delayed_copy(N, k, symbols, every_step, length, rng)
        losses[step], grads, _ = sequence_loss(params, inputs, targets, state0, cell, start=k)
        params = sgd_step(params, clip_by_global_norm(grads, max_norm)[0], lr)
    return params, losses


def copy_accuracy(params, k, cell="rnn", every_step=False, length=8, n=1000, seed=12345):
    """Share of the asked steps of n fresh sequences (another seed than training's) answered right."""
    cell = get_cell(cell)
    symbols, H = params["E"].shape[1], params["U"].shape[1]
    inputs, targets = delayed_copy(n, k, symbols, every_step, length, seed)
    scores, _ = sequence_scores(params, inputs, cell.zero_state(H, n, params["U"].dtype), cell)
    return float(np.mean(scores[k:].argmax(axis=1) == targets[k:]))


def accuracy_against_delay(ks, cell="rnn", every_step=False, length=8, seed=0, **train_kwargs):
    """Accuracy after train_copy for every delay in ks: an array (len(ks),).  train_kwargs go to train_copy."""
    accuracies = []
    for k in ks:
        params, _ = train_copy(k, cell, every_step=every_step, length=length, seed=seed, **train_kwargs)
        accuracies.append(copy_accuracy(params, k, cell, every_step, length))
    return np.array(accuracies)
