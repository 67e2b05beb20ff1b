"""tools/bench_recurrent.py runs (tiny shapes, one repeat; no timing is asserted) and its NumPy step is a
real training step: the parameters change and the loss of the batch goes down."""
import importlib.util

import numpy as np
import pytest

from helpers import rnn_lm
from helpers.cells import get_cell


@pytest.fixture(scope="module")
def bench_module(root):
    spec = importlib.util.spec_from_file_location("bench_recurrent", root / "tools" / "bench_recurrent.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY = {"V": 11, "D": 3, "H": 4, "N": 2, "T": 3}


def test_bench_returns_one_row_per_cell_and_dtype(bench_module):
    rows = bench_module.bench(cells=["rnn"], repeats=1, warmup=0, shapes=TINY)
    assert [(r["kind"], r["cell"], r["dtype"]) for r in rows] == [
        (kind, "rnn", dtype) for kind in ("LM step", "layer") for dtype in ("float32", "float64")]
    for row in rows:
        assert row["numpy_ms"] > 0
        assert (row["torch_ms"] is None) == (row["ratio"] is None)
    assert "rnn" in bench_module.available_cells()


def test_numpy_step_trains(bench_module):
    step = bench_module.numpy_step("rnn", "float64", TINY)
    before = {k: v.copy() for k, v in step.state["params"].items()}
    ids, h0 = bench_module._ids(TINY, 0), get_cell("rnn").zero_state(TINY["H"], TINY["N"], np.float64)
    for _ in range(20):
        step()
    after = step.state["params"]
    assert all(not np.array_equal(before[k], after[k]) for k in before)
    assert rnn_lm.lm_loss(after, ids, h0)[0] < rnn_lm.lm_loss(before, ids, h0)[0]
