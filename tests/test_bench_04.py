"""tools/bench.py's comparison of the NumPy recurrent reference with PyTorch (bench_recurrent): it runs with tiny
shapes and one repeat, prints a row per benchmark, cell and dtype, and without PyTorch times NumPy alone and
reports no goal as missed.  No timing is asserted."""
import importlib.util
import re

import pytest


@pytest.fixture(scope="module")
def bench(root):
    spec = importlib.util.spec_from_file_location("bench", root / "tools" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_recurrent_prints_one_row_per_benchmark_cell_and_dtype(bench, capsys):
    ok = bench.bench_recurrent(repeats=1, shapes={"V": 11, "D": 3, "H": 4, "N": 2, "T": 3})
    out = capsys.readouterr().out
    rows = re.findall(r"^(LM step|layer)\s+(rnn|lstm|gru)\s+(float32|float64)\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    cells = sorted({r[1] for r in rows})
    assert "rnn" in cells and len(rows) == 2 * 2 * len(cells)
    assert all(float(r[3]) > 0 for r in rows)
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "not installed" in out and all(r[4] == r[5] == "-" for r in rows) and ok is True
    else:
        assert all(float(r[4]) > 0 for r in rows) and ok in (True, False)
