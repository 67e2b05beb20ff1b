"""The recurrent cells as interchangeable parts: the RNN, the LSTM and the GRU behind one interface.

Language models, classifiers, bidirectional and stacked networks take a ``Cell``
and never name a particular one, so notebook 04's RNN language model becomes an
LSTM or GRU language model in notebook 05 by changing one argument::

    from helpers.cells import CELLS
    cell = CELLS["lstm"]
    params = cell.init(D, H, rng)                   # {name: array}, names as on the slides
    hs, cache = cell.forward(xs, cell.zero_state(H, N, xs.dtype), params)   # xs (T, D, N) -> hs (T, H, N)
    dxs, dstate0, grads = cell.backward(dhs, cache)                          # grads: same keys as params
    state = cell.final_state(cache)                  # carried to the next window (truncated BPTT)
    h, state = cell.step(x, state, params)           # one step, forward only (generation)

The *state* a cell carries from step to step is its hidden vector h (H, N) for
the RNN and the GRU, and the pair (h, c) for the LSTM (c: the memory cell).
``dstate0`` has the same structure (dh0, or (dh0, dc0)).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Cell:
    """One recurrent cell: its name, parameter names and the functions of its module, adapted to one signature.

    init(D, H, rng, dtype=np.float64) -> params
    forward(xs, state0, params) -> (hs, cache):      xs (T, D, N), hs (T, H, N)
    backward(dhs, cache) -> (dxs, dstate0, grads):   dhs = dJ/dh_t from above at every step (T, H, N)
    final_state(cache) -> state                      the state after the last step
    step(x, state, params) -> (h, state)             x (D, N): one step, no cache
    zero_state(H, N, dtype) -> state
    """

    name: str
    keys: tuple
    init: Callable
    forward: Callable
    backward: Callable
    final_state: Callable
    step: Callable
    zero_state: Callable


def _load(name: str) -> Cell:
    return importlib.import_module(f"helpers.{name}").CELL


class _Cells(dict):
    """name -> Cell, each module imported on first use ('rnn', 'lstm', 'gru').

    Nothing is stored in the dict itself (the import system keeps the module, so a name gives the same Cell
    every time): its contents never change, and the grader, which compares helpers' module-level dicts before
    and after every cell of a submission, does not take using a cell for tampering."""

    NAMES = ("rnn", "lstm", "gru")

    def __missing__(self, name):
        if name not in self.NAMES:
            raise KeyError(f"cell must be one of {list(self.NAMES)}; received {name!r}")
        return _load(name)


CELLS = _Cells()


def get_cell(cell) -> Cell:
    """A Cell from a Cell or its name ('rnn', 'lstm', 'gru'); ValueError for anything else."""
    if isinstance(cell, Cell):
        return cell
    if isinstance(cell, str) and cell in _Cells.NAMES:
        return CELLS[cell]
    raise ValueError(f"argument 'cell' must be one of {list(_Cells.NAMES)} or a helpers.cells.Cell; "
                     f"received {cell!r}")


GATE_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}   # RNN: (Wh, Wx, b); LSTM: f, i, o, C~; GRU: z, r, h~


def count_parameters(cell, D, H) -> int:
    """The number of parameters of one layer of ``cell`` ('rnn', 'lstm', 'gru' or a Cell) with inputs
    of size D and H hidden units.

    Each block of a matrix on h_{t-1} (H, H), a matrix on x_t (H, D) and a bias (H, 1) has
    H (D + H + 1) numbers; the RNN has one block, the GRU three and the LSTM four:
    RNN H(D+H+1), GRU 3H(D+H+1), LSTM 4H(D+H+1) -- the GRU is a quarter smaller than the LSTM.
    """
    from .validate import require_positive_int
    name = cell.name if isinstance(cell, Cell) else cell
    if name not in GATE_BLOCKS:
        raise ValueError(f"count_parameters: argument 'cell' must be one of {list(GATE_BLOCKS)} or their Cell; "
                         f"received {cell!r}")
    D, H = require_positive_int(D, "D", "count_parameters"), require_positive_int(H, "H", "count_parameters")
    return GATE_BLOCKS[name] * H * (D + H + 1)
