"""helpers.cells: every cell (and a stack of them) starts from its zero state when given None, and
count_parameters agrees with the parameters that each cell's init makes."""
import numpy as np
import pytest

from helpers.cells import CELLS, count_parameters, get_cell
from helpers.stacked import stacked_cell


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", stacked_cell("lstm", 2), stacked_cell("gru", 3)],
                         ids=lambda c: c if isinstance(c, str) else c.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_none_is_the_zero_state(cell, dtype):
    cell = get_cell(cell)
    rng = np.random.default_rng(0)
    params = cell.init(3, 4, rng, dtype)
    xs = rng.normal(size=(5, 3, 2)).astype(dtype)
    hs, cache = cell.forward(xs, None, params)
    expected, _ = cell.forward(xs, cell.zero_state(4, 2, dtype), params)
    np.testing.assert_array_equal(hs, expected)
    assert hs.dtype == dtype
    dxs, _, grads = cell.backward(np.ones_like(hs), cache)
    assert dxs.shape == xs.shape and set(grads) == set(params)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("D, H", [(1, 1), (3, 5), (64, 128)])
def test_count_parameters_counts_what_init_makes(name, D, H):
    params = CELLS[name].init(D, H, np.random.default_rng(0))
    assert count_parameters(name, D, H) == sum(p.size for p in params.values())
    assert count_parameters(CELLS[name], D, H) == count_parameters(name, D, H)


def test_count_parameters_errors():
    with pytest.raises(ValueError, match=r"^count_parameters: argument 'cell' must be one of"):
        count_parameters("transformer", 3, 4)
    with pytest.raises(ValueError, match=r"count_parameters.*'H'"):
        count_parameters("gru", 3, 0)


def test_cells_are_the_modules_cells_and_the_dict_never_changes():
    """The grader compares the course's module-level dicts before and after a student's code: CELLS must not
    fill itself on use."""
    from helpers import gru, lstm, rnn
    from helpers.cells import CELLS
    assert (CELLS["rnn"], CELLS["lstm"], CELLS["gru"]) == (rnn.CELL, lstm.CELL, gru.CELL)
    assert CELLS["lstm"] is lstm.CELL and dict(CELLS) == {}
    with pytest.raises(KeyError, match="cell must be one of"):
        CELLS["transformer"]


def test_cell_from_functions_takes_one_of_the_three_cells_only():
    from helpers.cells import cell_from_functions
    from helpers.stacked import stacked_cell
    with pytest.raises(ValueError, match=r"^cell_from_functions: argument 'cell' must be one of \['rnn', 'lstm', "
                                         r"'gru'\]; received the cell 'lstmx2'$"):
        cell_from_functions(stacked_cell("lstm", 2), None, None)
