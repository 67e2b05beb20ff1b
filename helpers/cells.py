"""The recurrent cells as interchangeable parts: the RNN, the LSTM and the GRU behind one interface.

Language models, classifiers, bidirectional and stacked networks take a ``Cell``
and never name a particular one, so notebook 04's RNN language model becomes an
LSTM or GRU language model in notebook 05 by changing one argument::

    from helpers.cells import CELLS
    cell = CELLS["lstm"]
    params = cell.init(D, H, rng)                   # {name: array}, names as on the slides
    hs, cache = cell.forward(xs, cell.zero_state(H, N, xs.dtype), params)   # xs (T, D, N) -> hs (T, H, N)
    hs, cache = cell.forward(xs, None, params)      # the same: None is the zero state
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
    forward(xs, state0, params) -> (hs, cache):      xs (T, D, N), hs (T, H, N); state0 None: the zero state
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

    The dict itself stays empty (the module's import system keeps the modules): the grader compares the
    course's module-level dicts before and after a student's code runs, and a dict that filled itself on
    first use would look tampered with."""

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


def cell_from_functions(cell, forward, backward) -> Cell:
    """The cell 'rnn', 'lstm' or 'gru' computed by other sequence functions with the reference's signatures,
    e.g. notebook 05's own lstm_forward and lstm_backward, so that experiments train with them:

        forward(xs, h0, params) -> (hs, cache)        the LSTM's: forward(xs, h0, params, c0)
        backward(dhs, cache) -> (dxs, dh0, grads)

    Their cache is their own.  The LSTM's last cell state C_T (carried from window to window) is read from
    it as notebook 05's exercise keeps it: the list of step caches, each a dict with the key 'c'.  dstate0 of
    the LSTM is (dh0, None): the exercise does not compute dJ/dC_0 (no experiment needs it).
    When either function is the module's own (the reference), the module's Cell is returned: a cache of one
    implementation cannot be read by the other's backward pass.
    """
    import numpy as np
    base = get_cell(cell)
    if base.name not in _Cells.NAMES:
        received = repr(cell) if isinstance(cell, str) else f"the cell {base.name!r}"
        raise ValueError(f"cell_from_functions: argument 'cell' must be one of {list(_Cells.NAMES)}; received {received}")
    module = importlib.import_module(f"helpers.{base.name}")
    if forward is getattr(module, f"{base.name}_forward") or backward is getattr(module, f"{base.name}_backward"):
        if forward is not getattr(module, f"{base.name}_forward") or backward is not getattr(module,
                                                                                          f"{base.name}_backward"):
            print(f"The experiment uses the reference {base.name}_forward and {base.name}_backward together: "
                  f"a cache of one implementation cannot be read by the other's backward pass.")
        return base

    def zeros(xs, params):
        H, N = np.shape(params[base.keys[0]])[0], np.shape(xs)[-1]
        return np.zeros((H, N), dtype=np.result_type(np.asarray(xs).dtype, np.asarray(params[base.keys[0]]).dtype))

    def run(xs, state0, params):
        if base.name == "lstm":
            h0, c0 = (zeros(xs, params), None) if state0 is None else state0
            hs, cache = forward(xs, h0, params, c0)
            return hs, (cache, (hs[-1], cache[-1]["c"]))
        hs, cache = forward(xs, zeros(xs, params) if state0 is None else state0, params)
        return hs, (cache, hs[-1])

    def back(dhs, wrapped):
        dxs, dh0, grads = backward(dhs, wrapped[0])
        return dxs, ((dh0, None) if base.name == "lstm" else dh0), grads

    def step(x, state, params):
        hs, wrapped = run(np.asarray(x)[None], state, params)
        return hs[0], wrapped[1]

    return Cell(name=base.name, keys=base.keys, init=base.init, forward=run, backward=back,
                final_state=lambda wrapped: wrapped[1], step=step, zero_state=base.zero_state)
