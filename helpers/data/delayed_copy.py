"""The delayed-copy task, generated: is the token k steps back still in a recurrent network's memory?

A sequence is T tokens drawn independently and uniformly from ``symbols`` symbols (ids 0 .. symbols-1).
The answer at a step is the token read k steps earlier, x_{t-k}; every token in between is a distractor
that the network must read without forgetting the one it has to give back.

- answer at the end (default): T = k + 1, and only the last step is asked, for x_1, the first token;
- every_step=True: T = k + length, and every step t >= k is asked for x_{t-k} (k tokens in memory at once).

Guessing is right with probability 1 / symbols (chance).  The data is generated from a seed (or a
numpy Generator) at run time; nothing is stored or downloaded.  Notebook 04 trains an RNN on it and
notebook 05 an LSTM and a GRU.
"""
from __future__ import annotations

import numpy as np

from ..validate import as_generator, require_positive_int


def delayed_copy(n, k, symbols=4, every_step=False, length=8, seed=0):
    """n sequences of the task: (inputs, targets), both (T, n) int64, time-major.

    targets[t] = inputs[t - k] for the asked steps t (t = k .. T - 1), and -1 at the first k steps,
    which have no answer.  T = k + 1 (answer at the end) or k + length (every_step).
    seed: an int or a numpy Generator (draw many batches from one Generator).
    """
    fn = "delayed_copy"
    n, k = require_positive_int(n, "n", fn), require_positive_int(k, "k", fn)
    symbols = require_positive_int(symbols, "symbols", fn)
    T = k + (require_positive_int(length, "length", fn) if every_step else 1)
    inputs = as_generator(seed, fn, "seed").integers(0, symbols, size=(T, n))
    targets = np.full((T, n), -1, dtype=np.int64)
    targets[k:] = inputs[:T - k]
    return inputs.astype(np.int64), targets
